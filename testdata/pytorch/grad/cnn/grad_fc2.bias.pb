
Bgrad_fc2.biasJ(ä(Ô¼Ş~¾xŠö¼Xq¼fÜß¼À˜·¼cBÅ=İ¿½=.éÖ=ò”¼
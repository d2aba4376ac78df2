
Binit_conv1.biasJ(ª¹×½ŒØ<[Z)>Úwo½W-ó½j|—½¸üJ¾ä¸=M·Ä½Ú«¾
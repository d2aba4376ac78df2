
Binit_fc.biasJ(v†¾Q Î=Â@»=Y•q=±^4½å»I»ˆ^Ä½‹#½)cî¼$Í¼
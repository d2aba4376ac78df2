
Binit_fc2.biasJ(4าฝTXฝ6=Y=ฎ=	ภ ฝiÝ.=_|^ฝ&t=	Wนวภ=

Badam3_fc.biasJ(Ьs╬aдт=╓eа=ъ}=3(╫P%╝╦А┌й╫шb/╫pz╫я░╢╪
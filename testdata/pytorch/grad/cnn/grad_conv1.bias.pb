
Bgrad_conv1.biasJ(`VR¼ÄÃÜ<HÛs¼O	Œ<y:;c<†iHºR
¶;ŞB¢º,90»
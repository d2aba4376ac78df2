Bgrad_bn1.weightJ X;%¸|&
»è9û„Á9CÎ‰;¶»^þB:¿}º
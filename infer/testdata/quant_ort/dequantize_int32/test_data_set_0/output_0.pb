
Bout0J33Apİ™CGQ*ÄÍŒ	Ãf¶?D
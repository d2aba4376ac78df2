
Badam3_conv1.biasJ(5ТЅ69Ь<ѕ,>оиmЅЄтЅвќ–ЅПMHѕ7
є=ЇlїЅMѕ
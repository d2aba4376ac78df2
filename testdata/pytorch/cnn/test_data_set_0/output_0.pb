
BlogitsJ(I╕м┐Og,└▐g#@w░│╛╪жу└ИZє┐╞i┴╫ЩHAkF└А╓Ю║
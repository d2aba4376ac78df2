// Package digit prepares pictures of handwritten digits for the MNIST
// models: any size, dark ink on light paper or light on dark, PNG or JPEG in,
// a 28x28 image out, white ink on black, scaled and centred the way the
// MNIST digits were (LeCun et al.: the digit's bounding box scaled to fit
// 20x20 with its aspect ratio kept, then placed by its centre of mass at the
// centre of a 28x28 field).
//
// A model trained on MNIST sees only such images, so a photo or a drawing
// must go through the same steps before it can be classified; Prepare does
// them. It knows nothing about models: "onnxkit predict" feeds its output to
// an ONNX session.
package digit

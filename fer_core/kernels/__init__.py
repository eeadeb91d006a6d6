"""Our own convolution kernels for MindSpore's CPU backend (AOT custom operators on oneDNN 3).

Importing this package is cheap: mindspore loads in `fast_conv`.
"""

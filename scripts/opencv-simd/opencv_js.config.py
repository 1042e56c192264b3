# Whitelist for the project's OpenCV.js SIMD build (scripts/build-opencv-simd.sh): only what
# lib/filters, bench/ and tests/ call. Mat, Size, Point, exceptionFromPtr and the CV_* / COLOR_* /
# BORDER_* constants come from modules/js/src/core_bindings.cpp and need no entry here.
# Executed by OpenCV's embindgen.py, which supplies makeWhiteList.

core = {'': []}

imgproc = {'': ['cvtColor', 'GaussianBlur', 'Canny', 'filter2D']}

white_list = makeWhiteList([core, imgproc])

"""The Inference page, in parts:

    page.py         which model to show (a run's live weights, the session's model, none),
                    and which view
    sources.py      getting a model: the one-click default network, or an uploaded file
    answer.py       the network's answer, the saliency maps and every hidden layer
    drawing.py      draw a digit on the canvas, answered stroke by stroke (a fragment)
    pen.py, pen.js  the canvas itself: a component of the app's own that sends its picture
                    the moment the pen lifts
    test_images.py  walk through the test set, mistakes first if you like
    points.py       a 2-D model: classify a point of the plane
"""

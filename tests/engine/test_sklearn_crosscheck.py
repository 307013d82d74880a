"""nncore against an independent implementation: scikit-learn's MLPClassifier.

Both start from the same weights (nncore's initial W and b copied into MLPClassifier's
``coefs_`` / ``intercepts_``) and take plain full-batch gradient-descent steps; the
parameters must agree to rounding after every step. MLPClassifier's settings that make it
plain SGD: solver="sgd", momentum=0, nesterovs_momentum=False, alpha=0 (no L2),
learning_rate="constant", batch_size=n (one batch = the whole set), shuffle=False.
One ``partial_fit`` call is then exactly one step.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from nncore import Dense, Network
from nncore.optimizers import SGD

SK_TO_NNCORE = {"relu": "relu", "tanh": "tanh", "logistic": "sigmoid"}


def _data(n_classes, m=60, n=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, n))
    y = np.arange(m) % n_classes           # every class present
    X += y[:, None] * 0.5                  # a little structure so the loss moves
    return X, y


def _sklearn_copy_of(net, X, y, activation, lr, hidden):
    clf = MLPClassifier(hidden_layer_sizes=(hidden,), activation=activation, solver="sgd",
                        learning_rate="constant", learning_rate_init=lr, momentum=0.0,
                        nesterovs_momentum=False, alpha=0.0, batch_size=len(X), shuffle=False,
                        max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)                        # sets up classes, shapes and the optimizer
    dense = [l for l in net.layers if isinstance(l, Dense)]
    assert [c.shape for c in clf.coefs_] == [l.W.shape for l in dense]
    clf.coefs_ = [l.W.copy() for l in dense]
    clf.intercepts_ = [l.b.copy() for l in dense]
    return clf


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_plain_sgd_steps_match_mlpclassifier(activation, n_classes):
    X, y = _data(n_classes)
    hidden, lr, steps = 7, 0.3, 6
    binary = n_classes == 2
    out = Dense(hidden, 1, "sigmoid") if binary else Dense(hidden, n_classes, "softmax")
    net = Network([Dense(X.shape[1], hidden, SK_TO_NNCORE[activation], init="glorot"), out],
                  loss="binary_cross_entropy" if binary else "softmax_cross_entropy",
                  optimizer=SGD(lr), seed=1, dtype=np.float64)
    for layer in net.layers:                 # non-zero biases, so their step is compared too
        layer.b[:] = np.random.default_rng(2).normal(0, 0.2, layer.b.shape)
    clf = _sklearn_copy_of(net, X, y, activation, lr, hidden)
    assert clf.out_activation_ == ("logistic" if binary else "softmax")

    for step in range(steps):
        net.train_step(X, y)
        clf.partial_fit(X, y)
        for i, layer in enumerate(net.layers):
            np.testing.assert_allclose(layer.W, clf.coefs_[i], rtol=1e-10, atol=1e-13,
                                       err_msg=f"W of layer {i} after step {step + 1}")
            np.testing.assert_allclose(layer.b, clf.intercepts_[i], rtol=1e-10, atol=1e-13,
                                       err_msg=f"b of layer {i} after step {step + 1}")
    # the steps moved the weights (a test of two frozen networks would pass trivially)
    fresh = Network([Dense(X.shape[1], hidden, SK_TO_NNCORE[activation], init="glorot"),
                     Dense(hidden, 1 if binary else n_classes, "sigmoid" if binary else "softmax")],
                    seed=1, dtype=np.float64)
    assert np.max(np.abs(fresh.layers[0].W - net.layers[0].W)) > 1e-3
    # and the two models now answer alike
    np.testing.assert_allclose(net.predict_proba(X), clf.predict_proba(X), rtol=1e-9, atol=1e-12)
    assert np.array_equal(net.predict(X), clf.predict(X))


def test_train_step_reports_the_same_loss_as_mlpclassifier():
    X, y = _data(3, seed=4)
    net = Network([Dense(4, 5, "tanh"), Dense(5, 3, "softmax")], optimizer=SGD(0.1), seed=0,
                  dtype=np.float64)
    clf = _sklearn_copy_of(net, X, y, "tanh", 0.1, 5)
    for _ in range(3):
        ours = net.train_step(X, y)
        clf.partial_fit(X, y)
        assert ours == pytest.approx(clf.loss_, rel=1e-12)

"""nncore against the seed tutorials' own training loops, written out here from their text.

Each test copies nncore's initial weights into the seed's variables (in the seed's own
layout), runs the seed's loop and nncore side by side in float64, and requires the same
parameters after every step. The seed code below is transcribed from
/work/shared/seeds/*.txt; where a line had to change, a comment says which and why.
"""

import numpy as np
import pytest

from nncore import ActivationLayer, Dense, Network
from nncore.data import make_moons
from nncore.optimizers import SGD


def assert_same(ours, theirs, what):
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-13, err_msg=what)


# ------------------------------------------------------------------ seed 002
def relu_activation(data_array):
    return np.maximum(data_array, 0)


def softmax(output_array):
    logits_exp = np.exp(output_array)
    return logits_exp / np.sum(logits_exp, axis=1, keepdims=True)


def cross_entropy_softmax_loss_array(softmax_probs_array, y_onehot):
    indices = np.argmax(y_onehot, axis=1).astype(int)
    predicted_probability = softmax_probs_array[np.arange(len(softmax_probs_array)), indices]
    log_preds = np.log(predicted_probability)
    loss = -1.0 * np.sum(log_preds) / len(log_preds)
    return loss


def regularization_L2_softmax_loss(reg_lambda, weight1, weight2):
    weight1_loss = 0.5 * reg_lambda * np.sum(weight1 * weight1)
    weight2_loss = 0.5 * reg_lambda * np.sum(weight2 * weight2)
    return weight1_loss + weight2_loss


def test_seed002_full_batch_loop_with_l2():
    rng = np.random.default_rng(12)
    # three clusters as in seed 002, smaller (the loop is the point, not the data)
    training_data = np.vstack([rng.multivariate_normal(c, [[1, .5], [.5, 1]], 100)
                               for c in ([0, 0], [1, 4], [2, 8])])
    labels = np.repeat([0, 1, 2], 100)
    training_labels = np.eye(3)[labels]
    learning_rate, reg_lambda, steps = .01, .01, 25

    net = Network([Dense(2, 5, "relu", init="normal-1"), Dense(5, 3, "softmax", init="normal-1")],
                  loss="softmax_cross_entropy", optimizer=SGD(learning_rate), l2=reg_lambda,
                  seed=12, dtype=np.float64)
    layer1_weights_array = net.layers[0].W.copy()
    layer2_weights_array = net.layers[1].W.copy()
    layer1_biases_array = net.layers[0].b.reshape(1, -1).copy()     # zeros, as in the seed
    layer2_biases_array = net.layers[1].b.reshape(1, -1).copy()
    assert not layer1_biases_array.any() and not layer2_biases_array.any()

    for step in range(steps):
        # --- seed 002, verbatim ---
        input_layer = np.dot(training_data, layer1_weights_array)
        hidden_layer = relu_activation(input_layer + layer1_biases_array)
        output_layer = np.dot(hidden_layer, layer2_weights_array) + layer2_biases_array
        output_probs = softmax(output_layer)
        loss = cross_entropy_softmax_loss_array(output_probs, training_labels)
        loss += regularization_L2_softmax_loss(reg_lambda, layer1_weights_array, layer2_weights_array)
        output_error_signal = (output_probs - training_labels) / output_probs.shape[0]
        error_signal_hidden = np.dot(output_error_signal, layer2_weights_array.T)
        error_signal_hidden[hidden_layer <= 0] = 0
        gradient_layer2_weights = np.dot(hidden_layer.T, output_error_signal)
        gradient_layer2_bias = np.sum(output_error_signal, axis=0, keepdims=True)
        gradient_layer1_weights = np.dot(training_data.T, error_signal_hidden)
        gradient_layer1_bias = np.sum(error_signal_hidden, axis=0, keepdims=True)
        gradient_layer2_weights += reg_lambda * layer2_weights_array
        gradient_layer1_weights += reg_lambda * layer1_weights_array
        layer1_weights_array -= learning_rate * gradient_layer1_weights
        layer1_biases_array -= learning_rate * gradient_layer1_bias
        layer2_weights_array -= learning_rate * gradient_layer2_weights
        layer2_biases_array -= learning_rate * gradient_layer2_bias
        # --- nncore ---
        ours = net.train_step(training_data, labels)
        assert ours == pytest.approx(loss, rel=1e-12), f"loss (with ½λΣW²) at step {step}"
        assert_same(net.layers[0].W, layer1_weights_array, f"W1 after step {step + 1}")
        assert_same(net.layers[1].W, layer2_weights_array, f"W2 after step {step + 1}")
        assert_same(net.layers[0].b, layer1_biases_array[0], f"b1 after step {step + 1}")
        assert_same(net.layers[1].b, layer2_biases_array[0], f"b2 after step {step + 1}")
    assert layer2_biases_array.any()            # biases did move


# ------------------------------------------------------------------ seed 003
def sigmoid(Z):
    return 1 / (1 + np.exp(-Z))


def relu(Z):
    return np.maximum(0, Z)


def sigmoid_derivative(Z):
    sig = sigmoid(Z)
    return sig * (1 - sig)


def relu_derivative(Z):
    dZ = (Z >= 0)
    return dZ


def single_layer_forward_propagation(A_prev, W_curr, b_curr, activation="relu"):
    Z_curr = np.matmul(W_curr, A_prev) + b_curr
    activation_func = relu if activation == "relu" else sigmoid
    return activation_func(Z_curr), Z_curr


def full_forward_propagation(X, params_values, nn_architecture):
    memory = {}
    A_curr = X
    for idx, layer in enumerate(nn_architecture):
        layer_idx = idx + 1
        A_prev = A_curr
        A_curr, Z_curr = single_layer_forward_propagation(
            A_prev, params_values["W" + str(layer_idx)], params_values["b" + str(layer_idx)],
            layer["activation"])
        memory["A" + str(idx)] = A_prev
        memory["Z" + str(layer_idx)] = Z_curr
    return A_curr, memory


def get_loss_value(Y_hat, Y):
    return - np.mean(Y * np.log(Y_hat) + (1 - Y) * np.log(1 - Y_hat))


def get_loss_derivative(Y_hat, Y):
    return - (np.divide(Y, Y_hat) - np.divide(1 - Y, 1 - Y_hat))


def single_layer_backward_propagation(dA_curr, W_curr, b_curr, Z_curr, A_prev, activation="relu"):
    derivative_activation_func = relu_derivative if activation == "relu" else sigmoid_derivative
    dZ_curr = dA_curr * derivative_activation_func(Z_curr)
    dW_curr = np.matmul(dZ_curr, np.transpose(A_prev, (0, 2, 1)))
    db_curr = dZ_curr
    dA_prev = np.matmul(W_curr.T, dZ_curr)
    return dA_prev, dW_curr, db_curr


def full_backward_propagation(Y_hat, Y, memory, params_values, nn_architecture):
    grads_values = {}
    dA_prev = get_loss_derivative(Y_hat, Y)
    for layer_idx_prev, layer in reversed(list(enumerate(nn_architecture))):
        layer_idx_curr = layer_idx_prev + 1
        dA_curr = dA_prev
        A_prev = memory["A" + str(layer_idx_prev)]
        Z_curr = memory["Z" + str(layer_idx_curr)]
        # The seed's relu_derivative is (Z >= 0); nncore's is (Z > 0). They differ only at
        # Z exactly 0, which this data never produces — checked here.
        assert np.all(Z_curr != 0)
        W_curr = params_values["W" + str(layer_idx_curr)]
        b_curr = params_values["b" + str(layer_idx_curr)]
        dA_prev, dW_curr, db_curr = single_layer_backward_propagation(
            dA_curr, W_curr, b_curr, Z_curr, A_prev, layer["activation"])
        grads_values["dW" + str(layer_idx_curr)] = np.mean(dW_curr, axis=0)
        grads_values["db" + str(layer_idx_curr)] = np.mean(db_curr, axis=0)
    return grads_values


def update(params_values, grads_values, nn_architecture, learning_rate):
    for idx, layer in enumerate(nn_architecture):
        layer_idx = idx + 1
        params_values["W" + str(layer_idx)] -= learning_rate * grads_values["dW" + str(layer_idx)]
        params_values["b" + str(layer_idx)] -= learning_rate * grads_values["db" + str(layer_idx)]
    return params_values


@pytest.mark.parametrize("architecture", [
    [{"input_dim": 2, "output_dim": 16, "activation": "relu"},          # the moons network
     {"input_dim": 16, "output_dim": 1, "activation": "sigmoid"}],
    [{"input_dim": 2, "output_dim": 4, "activation": "relu"},           # the seed's first,
     {"input_dim": 4, "output_dim": 6, "activation": "relu"},           # deeper example
     {"input_dim": 6, "output_dim": 6, "activation": "relu"},
     {"input_dim": 6, "output_dim": 4, "activation": "relu"},
     {"input_dim": 4, "output_dim": 1, "activation": "sigmoid"}],
])
def test_seed003_column_vector_loop(architecture):
    X, y = make_moons(300, noise=0.2, seed=3)
    X = X.astype(np.float64)
    learning_rate, epochs = 1.0, 15
    arch = [dict(layer, init="normal-0.1") for layer in architecture]
    net = Network.from_architecture(arch, loss="binary_cross_entropy",
                                    optimizer=SGD(learning_rate), seed=99, dtype=np.float64)
    # seed 003 keeps W as (out, in) and b as (out, 1): nncore's transposes
    params_values = {}
    for i, layer in enumerate(net.layers, 1):
        params_values[f"W{i}"] = layer.W.T.copy()
        params_values[f"b{i}"] = layer.b.reshape(-1, 1).copy()
    # --- seed 003's train(), verbatim but for the initialisation (copied from nncore) ---
    Y = y.reshape(-1, 1, 1).astype(np.float64)
    Xc = np.expand_dims(X, axis=2)
    for epoch in range(epochs):
        Y_hat, memory = full_forward_propagation(Xc, params_values, architecture)
        loss = get_loss_value(Y_hat, Y)
        grads_values = full_backward_propagation(Y_hat, Y, memory, params_values, architecture)
        params_values = update(params_values, grads_values, architecture, learning_rate)
        # --- nncore ---
        ours = net.train_step(X, y)
        assert ours == pytest.approx(loss, rel=1e-12)
        for i, layer in enumerate(net.layers, 1):
            assert_same(layer.W, params_values[f"W{i}"].T, f"W{i} after epoch {epoch + 1}")
            assert_same(layer.b, params_values[f"b{i}"][:, 0], f"b{i} after epoch {epoch + 1}")


# ------------------------------------------------------------------ seed 000
def sigmoid_backward(dA, Z):
    sig = sigmoid(Z)
    return dA * sig * (1 - sig)


def relu_backward(dA, Z):
    dZ = np.array(dA, copy=True)
    dZ[Z <= 0] = 0
    return dZ


def forward_single_layer(a_prev, w, b, activation_function):
    z = a_prev @ w + b
    a = activation_function(z)
    return a, z


SEED000_ACTIVATIONS = {"relu": relu, "sigmoid": sigmoid}


def forward(x, nn_parameters, nn_architecture):
    n_layers = len(nn_architecture) + 1
    memory = {}
    a = x
    for i in range(1, n_layers):
        a_prev = a
        # the seed looks the function up with globals(); a dict here does the same
        activation_function = SEED000_ACTIVATIONS[nn_architecture[i - 1]["activation"]]
        w = nn_parameters[f"weights {i-1}->{i}"]
        b = nn_parameters[f"bias {i}"]
        a, z = forward_single_layer(a_prev, w, b, activation_function)
        memory[f"a_{i - 1}"] = a_prev
        memory[f"z_{i}"] = z
    return a, memory


def backpropagation_single_layer(dA, w, z, a_prev, activation_function, seed_bias=True):
    m = a_prev.shape[0]
    backprop_activation = {"relu": relu_backward, "sigmoid": sigmoid_backward}[activation_function]
    delta = backprop_activation(dA, z)
    dW = (a_prev.T @ delta) / m
    if seed_bias:
        dB = np.sum(delta, axis=1, keepdims=True) / m     # the seed: sums over *units*
    else:
        dB = np.sum(delta, axis=0) / m                    # the standard Σ over samples / m
    dA_prev = delta @ w.T
    return dW, dB, dA_prev


def backward(target, prediction, memory, param_values, nn_architecture, seed_bias=True):
    gradients = {}
    dA_prev = 2 * (prediction - target)
    n_layers = len(nn_architecture) + 1
    for i in reversed(range(1, n_layers)):
        dA = dA_prev
        a_prev = memory[f"a_{i-1}"]
        z = memory[f"z_{i}"]
        w = param_values[f"weights {i-1}->{i}"]
        dW, dB, dA_prev = backpropagation_single_layer(
            dA, w, z, a_prev, nn_architecture[i - 1]["activation"], seed_bias)
        gradients[f"dW_{i-1}->{i}"] = dW
        gradients[f"dB_{i}"] = dB
    return gradients


def update000(param_values, gradients, nn_architecture, learning_rate, seed_bias=True):
    n_layers = len(nn_architecture) + 1
    for i in range(1, n_layers):
        param_values[f"weights {i-1}->{i}"] -= learning_rate * gradients[f"dW_{i-1}->{i}"]
        if seed_bias:
            param_values[f"bias {i}"] -= learning_rate * gradients[f"dB_{i}"].mean()
        else:
            param_values[f"bias {i}"] -= learning_rate * gradients[f"dB_{i}"]
    return param_values


NN000 = [{"in": 20, "out": 16, "activation": "relu"}, {"in": 16, "out": 10, "activation": "sigmoid"}]


def _seed000_setup():
    rng = np.random.default_rng(42)
    X = rng.random((256, 20))                      # min-max-scaled-like inputs in [0, 1)
    labels = rng.integers(0, 10, 256)
    net = Network.from_architecture([dict(l, init="normal-0.1") for l in NN000], loss="mse_sum",
                                    optimizer=SGD(0.1), seed=42, dtype=np.float64)
    parameters = {}
    for i, layer in enumerate(net.layers, 1):
        parameters[f"weights {i-1}->{i}"] = layer.W.copy()
        parameters[f"bias {i}"] = layer.b.copy()
    return X, labels, np.eye(10)[labels], net, parameters


def test_seed000_minibatch_loop_with_the_standard_bias_step():
    """Seed 000's loop over fixed mini-batches of 64 (its ``np.array_split``), 2·(a − y),
    lr 0.1 — with one deliberate change: the bias gradient is the usual Σ_samples δ / m.
    The seed sums δ over the *units* and then averages that (``dB.mean()``), which gives
    every unit of a layer the same bias step; nncore does not copy that slip (see the
    seed000-mnist preset), so the full-parameter comparison uses the standard step."""
    X, labels, Y, net, parameters = _seed000_setup()
    batches = list(zip(np.array_split(X, len(X) / 64), np.array_split(Y, len(X) / 64)))
    for epoch in range(3):
        for x, y in batches:
            a, memory = forward(x, parameters, NN000)
            grads = backward(y, a, memory, parameters, NN000, seed_bias=False)
            update000(parameters, grads, NN000, 0.1, seed_bias=False)
        net.fit(X, labels, epochs=1, batch_size=64, shuffle=False)
        for i, layer in enumerate(net.layers, 1):
            assert_same(layer.W, parameters[f"weights {i-1}->{i}"], f"W{i} after epoch {epoch + 1}")
            assert_same(layer.b, parameters[f"bias {i}"], f"b{i} after epoch {epoch + 1}")


def test_seed000_verbatim_first_step_gives_the_same_weights():
    """With the seed's own bias step, verbatim, the first update of every weight matrix
    is still identical (dW does not depend on the bias step); the biases differ, as
    documented."""
    X, labels, Y, net, parameters = _seed000_setup()
    x, y = X[:64], Y[:64]
    a, memory = forward(x, parameters, NN000)
    grads = backward(y, a, memory, parameters, NN000)
    update000(parameters, grads, NN000, 0.1)
    net.train_step(x, labels[:64])
    for i, layer in enumerate(net.layers, 1):
        assert_same(layer.W, parameters[f"weights {i-1}->{i}"], f"W{i}")
    assert not np.allclose(net.layers[1].b, parameters["bias 2"])    # the documented slip


# ------------------------------------------------------------------ seed 001
class FCLayer:
    """Seed 001's FCLayer: per-sample, updating its weights inside backward."""

    def __init__(self, W, b):
        self.weights, self.bias = W.copy(), b.reshape(1, -1).copy()

    def forward_propagation(self, input_data):
        self.input = input_data
        self.output = np.dot(self.input, self.weights) + self.bias
        return self.output

    def backward_propagation(self, output_error, learning_rate):
        input_error = np.dot(output_error, self.weights.T)
        weights_error = np.dot(self.input.T, output_error)
        self.weights -= learning_rate * weights_error
        self.bias -= learning_rate * output_error
        return input_error


class ActivationLayer001:
    def forward_propagation(self, input_data):
        self.input = input_data
        self.output = np.tanh(self.input)
        return self.output

    def backward_propagation(self, output_error, learning_rate):
        return (1 - np.tanh(self.input) ** 2) * output_error


def mse(y_true, y_pred):
    return np.mean(np.power(y_true - y_pred, 2))


def mse_prime(y_true, y_pred):
    return 2 * (y_pred - y_true) / y_true.size


def test_seed001_per_sample_sgd_on_xor():
    x_train = np.array([[[0, 0]], [[0, 1]], [[1, 0]], [[1, 1]]], dtype=np.float64)
    y_train = np.array([[[0]], [[1]], [[1]], [[0]]], dtype=np.float64)
    net = Network([Dense(2, 3, init="uniform-0.5"), ActivationLayer("tanh"),
                   Dense(3, 1, init="uniform-0.5"), ActivationLayer("tanh")],
                  loss="mse", optimizer=SGD(0.1), seed=2, dtype=np.float64)
    layers = [FCLayer(net.layers[0].W, net.layers[0].b), ActivationLayer001(),
              FCLayer(net.layers[2].W, net.layers[2].b), ActivationLayer001()]
    for epoch in range(50):
        err = 0
        for j in range(len(x_train)):          # seed 001's Network.fit
            output = x_train[j]
            for layer in layers:
                output = layer.forward_propagation(output)
            err += mse(y_train[j], output)
            error = mse_prime(y_train[j], output)
            for layer in reversed(layers):
                error = layer.backward_propagation(error, 0.1)
        err /= len(x_train)
        h = net.fit(x_train[:, 0], y_train[:, 0], epochs=1, batch_size=1, shuffle=False)
        assert h.train_loss[-1] == pytest.approx(err, rel=1e-12)      # seed's "error"
    assert_same(net.layers[0].W, layers[0].weights, "W1")
    assert_same(net.layers[0].b, layers[0].bias[0], "b1")
    assert_same(net.layers[2].W, layers[2].weights, "W2")
    assert_same(net.layers[2].b, layers[2].bias[0], "b2")

"""Built-in architectures; importing this package registers them."""

from kgtransfer.models.architectures import cnn, cnn1d, mlp, resnet

__all__ = ["cnn", "cnn1d", "mlp", "resnet"]

"""Classifier networks; each takes in_channels, num_classes and image_size as keyword arguments (the token
networks: vocab_size, num_classes and, for positions, max_length)."""

from noisyrobust.models.alexnet import SmallAlexNet
from noisyrobust.models.cnn import SCECNN, CoteachingCNN, JoCoRCNN, LeNet
from noisyrobust.models.inception_resnet import InceptionResNetV2
from noisyrobust.models.mlp import MLP
from noisyrobust.models.pretrained import ResNet18, ResNet50
from noisyrobust.models.resnet import CifarResNet18, PreActResNet18, ResNet32, ResNet34, ResNet44
from noisyrobust.models.timm_model import timm_model
from noisyrobust.models.tokens import BagOfTokens, TokenTransformer
from noisyrobust.models.vgg import VGG19BN

__all__ = [
    "MLP",
    "BagOfTokens",
    "CifarResNet18",
    "SCECNN",
    "CoteachingCNN",
    "InceptionResNetV2",
    "JoCoRCNN",
    "LeNet",
    "PreActResNet18",
    "ResNet18",
    "ResNet32",
    "ResNet34",
    "ResNet44",
    "ResNet50",
    "SmallAlexNet",
    "timm_model",
    "TokenTransformer",
    "VGG19BN",
]

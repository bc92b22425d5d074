"""The generative JEM's network: its energy never changes what the classifier says, and tiles and pixels agree."""
import torch

from core.models.hybrid_jem import HybridJEM
from core.models.unet import UNetSegmenter


def _network() -> HybridJEM:
    torch.manual_seed(0)
    return HybridJEM(4, 2, width=4, blocks=1, energy_width=8, energy_depth=2, energy_pixels=256).eval()


def test_the_energy_cancels_in_the_class_probabilities_and_gradcam_layer() -> None:
    network, x = _network(), torch.randn(3, 4, 16, 16)
    with torch.no_grad():
        ours, theirs = network(x), network.classifier(x)
        assert torch.allclose(torch.softmax(ours, 1), torch.softmax(theirs, 1), atol=1e-6)
        assert not torch.allclose(ours, theirs)  # log p(x) does see the energy
    assert network.cam_layer is network.classifier.cam_layer


def test_a_tile_energy_is_the_sum_over_a_training_patch_and_the_mean_of_its_pixels() -> None:
    network, x = _network(), torch.randn(2, 4, 16, 16)
    with torch.no_grad():
        pixels = network.pixel_energy(x)
        residual = x - network.energy(x)
        assert (pixels <= 0).all()
        tile = network(x) - network.classifier(x)
        assert torch.allclose(tile[:, 0], -0.5 * residual.pow(2).sum(dim=(1, 2, 3)), rtol=1e-5)  # 16 x 16 = 256 px
        dense = network.dense_logits(x) - network.classifier.dense_logits(x)
        assert torch.allclose(dense.mean(dim=(2, 3)), tile, rtol=1e-5)


def test_the_segmenter_keeps_its_weights_names() -> None:
    names = set(UNetSegmenter(4, 3, width=8, depth=2).state_dict())
    assert {"stem.0.weight", "stem.1.running_mean", "down.0.0.weight", "up.0.reduce.0.weight", "head.weight"} <= names

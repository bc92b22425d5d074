"""The generative JEM's network: its energy never changes what the classifier says, and tiles and pixels agree."""
import pytest
import torch

from core.models.hybrid_jem import SIGMA_MIN, HybridJEM
from core.models.unet import FiLMGroupNorm, UNetSegmenter

# How the U-Net is told the level and class: input bands, or an embedding of this size in every block.
TOLD = pytest.mark.parametrize("embedding", [0, 8], ids=["bands", "embedding"])


def _network(embedding: int = 0, classes: int = 0) -> HybridJEM:
    """A small hybrid JEM; an embedding's FiLM maps drawn at random (they start at zero, where it tells nothing)."""
    torch.manual_seed(0)
    network = HybridJEM(4, 2, width=4, blocks=1, energy_width=8, energy_depth=2, energy_pixels=256,
                        energy_classes=classes, energy_embedding=embedding).eval()
    for norm in network.modules():
        if isinstance(norm, FiLMGroupNorm):
            torch.nn.init.normal_(norm.film.weight, std=0.5)
    return network


def test_the_energy_cancels_in_the_class_probabilities_and_gradcam_layer() -> None:
    """In float64: the untrained energy is thousands, where float32 rounds the logits by ~1e-4."""
    network, x = _network().double(), torch.randn(3, 4, 16, 16, dtype=torch.float64)
    with torch.no_grad():
        ours, theirs = network(x), network.classifier(x)
        assert torch.allclose(torch.softmax(ours, 1), torch.softmax(theirs, 1), atol=1e-6)
        assert not torch.allclose(ours, theirs)  # log p(x) does see the energy
    assert network.cam_layer is network.classifier.cam_layer


def test_a_tile_energy_is_the_sum_over_a_training_patch_and_the_mean_of_its_pixels() -> None:
    network, x = _network(), torch.randn(2, 4, 16, 16)
    with torch.no_grad():
        pixels = network.pixel_energy(x)
        residual = x - network.denoised(x)
        assert (pixels <= 0).all()
        tile = network(x) - network.classifier(x)
        assert torch.allclose(tile[:, 0], -0.5 * residual.pow(2).sum(dim=(1, 2, 3)) / SIGMA_MIN, rtol=1e-5)  # 256 px
        dense = network.dense_logits(x) - network.classifier.dense_logits(x)
        assert torch.allclose(dense.mean(dim=(2, 3)), tile, rtol=1e-5)


@TOLD
def test_the_energy_is_told_the_noise_level_per_sample(embedding: int) -> None:
    """A clean input is scored at the bottom of the ladder; a batch of levels scores each sample at its own."""
    network, x = _network(embedding), torch.randn(2, 4, 16, 16)
    with torch.no_grad():
        assert torch.equal(network(x), network(x, SIGMA_MIN))
        assert not torch.allclose(network(x, 1.0), network(x))
        both = network(x, torch.tensor([0.1, 2.0]))
        assert torch.allclose(both, torch.cat([network(x[:1], 0.1), network(x[1:], 2.0)]), rtol=1e-5)


@TOLD
def test_a_class_told_energy_denoises_by_class_and_scores_log_px_told_none(embedding: int) -> None:
    """Told a class, r differs by class; told none (-1, or no labels) it is the energy in the logits and log p(x),
    so the classifier's probabilities stay the classifier's."""
    network, x = _network(embedding, classes=2), torch.randn(2, 4, 16, 16)
    with torch.no_grad():
        none, dropped = network.denoised(x, 0.5), network.denoised(x, 0.5, torch.tensor([-1, -1]))
        first, second = (network.denoised(x, 0.5, torch.tensor([k, k])) for k in (0, 1))
        mixed = network.denoised(x, 0.5, torch.tensor([0, -1]))
        assert torch.equal(none, dropped) and not torch.allclose(first, second) and not torch.allclose(first, none)
        assert torch.allclose(mixed[0], first[0], atol=1e-6) and torch.allclose(mixed[1], none[1], atol=1e-6)
        assert torch.allclose(network(x) - network.classifier(x), network.pixel_energy(x).mean(dim=(2, 3)).expand(-1, 2),
                              rtol=1e-5)
    with pytest.raises(ValueError, match="told no class"):
        _network(embedding).denoised(x, 0.5, torch.tensor([0, 1]))


def test_an_embedded_u_net_starts_as_if_told_nothing_and_takes_no_told_bands() -> None:
    """Its FiLM maps start at zero, so training starts from the plain U-Net; its input is the bands alone."""
    torch.manual_seed(0)
    network = HybridJEM(4, 2, width=4, blocks=1, energy_width=8, energy_depth=2, energy_classes=2, energy_embedding=8)
    x = torch.randn(2, 4, 16, 16)
    with torch.no_grad():
        assert torch.equal(network.denoised(x, 0.5, torch.tensor([0, 0])), network.denoised(x, 0.5, torch.tensor([1, 1])))
    assert network.energy.stem[0].in_channels == 4
    assert sum(isinstance(m, FiLMGroupNorm) for m in network.energy.modules()) == 2 * 2 + 2 + 3 * 2
    # `train energy` fits, averages and stores at half precision what lies under `energy.`: the embedding too
    assert {name.split(".")[0] for name in network.state_dict()} == {"classifier", "energy"}


def test_at_high_noise_the_untrained_energy_already_pulls_towards_the_band_means() -> None:
    """EDM's preconditioning: with the U-Net's output at 0, r is x / (1 + sigma^2), the posterior mean for Gaussian
    data of unit std, and the gradient is within 4 % of sigma times that data's score, -sigma x / (1 + sigma^2)."""
    network, x = _network(), 5.0 * torch.randn(2, 4, 16, 16)
    torch.nn.init.zeros_(network.energy.head.weight)
    torch.nn.init.zeros_(network.energy.head.bias)
    x.requires_grad_(True)
    grad, = torch.autograd.grad(network.pixel_energy(x, 5.0).sum(), x)
    shrink = (25 / 26) ** 2 / 5  # -(I - J)(x - r) / sigma with J = I / 26 and x - r = x * 25 / 26
    assert torch.allclose(grad, -shrink * 256 * x.detach(), rtol=1e-4)  # per pixel, times energy_pixels
    assert abs(shrink / (5 / 26) - 1) < 0.04


def test_the_segmenter_keeps_its_weights_names() -> None:
    names = set(UNetSegmenter(4, 3, width=8, depth=2).state_dict())
    assert {"stem.0.weight", "stem.1.running_mean", "down.0.0.weight", "up.0.reduce.0.weight", "head.weight"} <= names

"""Classification metrics for validation: accuracy and per-class F1 (as the SSC paper reports).

Computed from a confusion matrix so that one pass over the validation set gives all of them.
"""
import torch


def confusion_matrix(predicted: torch.Tensor, target: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Counts (num_classes, num_classes), rows = true class, columns = predicted class.

    Args:
        predicted: predicted class indices, shape (N,).
        target: true class indices, shape (N,).
        num_classes: K.

    Returns:
        An int64 matrix.
    """
    flat = target.long() * num_classes + predicted.long()
    return torch.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def accuracy(confusion: torch.Tensor) -> float:
    """The share of samples on the diagonal; 0 for an empty matrix."""
    total = int(confusion.sum())
    return float(confusion.diagonal().sum()) / total if total else 0.0


def per_class_f1(confusion: torch.Tensor, class_names: list[str]) -> dict[str, float]:
    """F1 of each class, by name; a class that is neither present nor predicted gets 0.

    Args:
        confusion: from `confusion_matrix`.
        class_names: names in class-index order.

    Returns:
        {class name: F1}.
    """
    tp = confusion.diagonal().double()
    predicted = confusion.sum(dim=0).double()
    actual = confusion.sum(dim=1).double()
    denominator = predicted + actual
    f1 = torch.where(denominator > 0, 2 * tp / denominator.clamp(min=1), torch.zeros_like(tp))
    return {name: round(float(v), 4) for name, v in zip(class_names, f1)}

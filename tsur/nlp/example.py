"""What the models read of one appeal, apart from the features: the register builds one at intake
without loading scikit-learn, which comes with the first model."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Example:
    """One appeal as the models see it: its text and the values of its context columns."""

    text: str
    context: dict[str, str] = field(default_factory=dict)

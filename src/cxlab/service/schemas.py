"""Request and response bodies of the service (pydantic), documented in its OpenAPI schema."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr, create_model, model_validator

#: Largest count or time (in periods) accepted in a CLV row: far beyond any real customer.
MAX_PERIODS = 1_000_000.0
#: Largest money amount accepted in a row.
MAX_AMOUNT = 1e12

#: A JSON number (an integer is accepted; text such as "1" is not).
Number = StrictFloat


class ClvRow(BaseModel):
    """One customer's purchase history in the model's time unit."""

    model_config = ConfigDict(extra="forbid")

    frequency: Annotated[Number, Field(ge=0, le=MAX_PERIODS, allow_inf_nan=False, description="Repeat purchases (purchases on distinct days after the first).")]
    recency: Annotated[Number, Field(ge=0, le=MAX_PERIODS, allow_inf_nan=False, description="Time from the first to the last purchase.")]
    T: Annotated[Number, Field(gt=0, le=MAX_PERIODS, allow_inf_nan=False, description="Time from the first purchase to the end of observation.")]
    monetary_value: Annotated[Number | None, Field(ge=0, le=MAX_AMOUNT, allow_inf_nan=False, description="Mean repeat-purchase value; needed when the model has no spend model.")] = None

    @model_validator(mode="after")
    def _recency_within_t(self) -> ClvRow:
        if self.recency > self.T:
            raise ValueError(f"recency ({self.recency}) must not exceed T ({self.T})")
        if self.frequency == 0 and self.recency != 0:
            raise ValueError("recency must be 0 when frequency is 0 (no repeat purchase)")
        return self


class ClvRequest(BaseModel):
    """Customers to score with a CLV model."""

    model_config = ConfigDict(extra="forbid")

    rows: Annotated[list[ClvRow], Field(min_length=1, description="At most 10,000 rows (413 beyond).")]
    horizon: Annotated[StrictInt, Field(ge=1, le=36_525, description="Forecast horizon in the model's time unit (weeks by default); at most 100 years.")]
    discount_rate: Annotated[Number, Field(ge=0, le=1, allow_inf_nan=False, description="Discount rate per period.")] = 0.0
    model: Annotated[StrictStr | None, Field(max_length=300, description="Name of the CLV bundle (see /v1/models); default: the only one.")] = None
    group: Annotated[StrictStr | StrictInt | None, Field(description="For a model fitted per group (--by): the group of every row, e.g. a marketplace.")] = None


class ClvPrediction(BaseModel):
    p_alive: float
    expected_purchases: float
    expected_spend: float
    clv: float


class ClvResponse(BaseModel):
    model: str
    predictions: list[ClvPrediction]


class SatisfactionPrediction(BaseModel):
    p_satisfied: float = Field(description="Calibrated probability that the customer is satisfied.")
    expected_score: float = Field(description="Expected score on the scale.")


class SatisfactionResponse(BaseModel):
    model: str
    scale: str
    predictions: list[SatisfactionPrediction]


class ModelInfo(BaseModel):
    name: str
    kind: str
    family: str
    cxlab_version: str | None = None
    created_at: str | None = None
    features: list[dict[str, str]]
    scales: list[str] | None = None
    by: str | None = None
    groups: list[Any] | None = None
    time_unit: str | None = None
    evaluation: dict[str, Any] | None = None
    training_data: dict[str, Any] | None = None


class ModelsResponse(BaseModel):
    models: list[ModelInfo]


class Health(BaseModel):
    status: str
    models: int


class ErrorBody(BaseModel):
    detail: Any


def satisfaction_request(features: dict[str, tuple[str, bool]]) -> type[BaseModel]:
    """The request body of ``/v1/satisfaction/predict`` for these features.

    ``features`` maps a feature name to (``"number"`` or ``"category"``,
    required). Field names in the row model are ``f0, f1, ...`` with the
    feature names as aliases, so any column name works as a JSON key.
    """
    fields: dict[str, Any] = {}
    for i, (name, (kind, required)) in enumerate(features.items()):
        base: Any = (
            # booleans (a flag such as 'prime') are numeric features to the model: true = 1
            # (the bounds on the number member itself: pydantic-core checks them natively, ~3x faster than
            # bounds on the union, which run a Python check per value)
            Annotated[Number, Field(allow_inf_nan=False, ge=-1e15, le=1e15)] | StrictBool | None if kind == "number"
            else Annotated[StrictStr | None, Field(max_length=1_000)]
        )
        info = Field(alias=name, description=f"{kind} feature '{name}' (null when unknown)")
        fields[f"f{i}"] = (base, info) if required else (base, Field(default=None, alias=name))
    row = create_model(
        "SatisfactionRow", __config__=ConfigDict(extra="forbid", populate_by_name=False), **fields
    )
    return create_model(
        "SatisfactionRequest",
        __config__=ConfigDict(extra="forbid"),
        rows=(Annotated[list[row], Field(min_length=1, description="At most 10,000 rows (413 beyond).")], ...),  # type: ignore[valid-type]
        model=(Annotated[StrictStr | None, Field(max_length=300, description="Name of the satisfaction bundle; default: the only one.")], None),
        scale=(Annotated[StrictStr | None, Field(max_length=20, description="Survey scale (csat5 or nps11); default csat5 when held.")], None),
    )

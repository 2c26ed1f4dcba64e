"""The JSON bodies of the HTTP API, as pydantic models: the source of the OpenAPI schema and the TypeScript types."""
from __future__ import annotations

from pydantic import BaseModel, Field


class GridShape(BaseModel):
    """Size of the map grid in cells; every image has its own cell."""

    rows: int
    cols: int


class BuildStatus(BaseModel):
    """A build of this project running now: what is served is the last committed version (or nothing yet)."""

    stage: str = Field(description="What the build is doing, in words")
    done: int = Field(description="Items of the stage finished (images, for decoding)")
    total: int = Field(description="Items of the stage in all; 0 for a stage without steps")


class ProjectInfo(BaseModel):
    """What the app needs to start: sizes, names and capabilities of the served project."""

    name: str = Field(description="Project folder name, for the page title")
    n: int = Field(description="Number of images; ids are 0..n-1")
    grid: GridShape
    grid_aspects: list[float] = Field(
        description="The aspects (width / height) /api/grid?aspect= answers grids for; the page asks for the nearest to its map pane's"
    )
    thumbnail_sizes: list[int] = Field(
        description="Thumbnail sizes in px, ascending, for /api/thumbs/{size}/{id} and /api/thumbs/{size}/batch"
    )
    feature_sets: list[str]
    default_feature_set: str
    feature_dims: dict[str, int] = Field(description="Dimensions D of each feature set")
    labels: list[str] = Field(description="Sorted unique label names; /api/labels codes index this list")
    can_embed: bool = Field(description="Whether an uploaded image can be embedded into the default feature set")
    text_feature_sets: list[str] = Field(
        description="Feature sets a text query can be embedded into (a CLIP-like model's image embedding); "
        "POST /api/queries/text"
    )
    revision: str = Field(
        description="Changes when the project is rebuilt from scratch; add ?v=REVISION to thumbnail URLs "
        "so the browser may cache them for good"
    )
    building: BuildStatus | None = Field(
        default=None,
        description="Set while a build of the project runs; with n = 0 the project has no committed version yet, "
        "and the page waits for it",
    )


class ImageInfo(BaseModel):
    """One image of the project."""

    id: int
    path: str = Field(description="Path relative to the image folder the project was built from")
    label: str | None
    width: int = Field(description="Original width in px (after EXIF orientation)")
    height: int


class UploadedQuery(BaseModel):
    """An uploaded image, embedded and held as a query for /api/rank/upload/{query}."""

    query: str = Field(description="Opaque key, 'u' followed by digits")
    width: int = Field(description="Original width in px")
    height: int
    feature_set: str = Field(description="The feature set the upload was embedded in")
    name: str = Field("", description="The uploaded file's name without folders; '' if it had none")


class TextQuery(BaseModel):
    """Words to rank the images by, through the feature set's text tower."""

    text: str = Field(min_length=1, max_length=1000, description="The query, e.g. 'a photo of a dog'")


class TextQueryAnswer(BaseModel):
    """A text, embedded and held as a query for /api/rank/upload/{query}, like an uploaded image."""

    query: str = Field(description="Opaque key, 'u' followed by digits")
    feature_set: str = Field(description="The feature set the text was embedded in")


class ErrorDetail(BaseModel):
    """Every 4xx/5xx answer: a message that says what went wrong and what to do."""

    detail: str


class RankCorrelation(BaseModel):
    """Spearman's rank correlation of two queries' full rankings (ties are broken by id, so exact)."""

    rho: float = Field(description="1 - 6 sum(d^2) / (n (n^2 - 1)) over every image's two ranks")
    n: int = Field(description="Images ranked")

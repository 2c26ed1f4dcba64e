"""The JSON bodies of the HTTP API, as pydantic models: the source of the OpenAPI schema and the TypeScript types."""
from __future__ import annotations

from pydantic import BaseModel, Field, StrictInt


class GridShape(BaseModel):
    """Size of the map grid in cells; every image has its own cell."""

    rows: int
    cols: int


class BuildStatus(BaseModel):
    """A build of this project running now: what is served is the last committed version (or nothing yet)."""

    stage: str = Field(description="What the build is doing, in words")
    done: int = Field(description="Items of the stage finished (images, for decoding)")
    total: int = Field(description="Items of the stage in all; 0 for a stage without steps")


class TilePyramid(BaseModel):
    """The zoomed-out map's tiles: /api/tiles/{px}/{ty}/{tx} for each level px."""

    levels: list[int] = Field(description="Pixels per grid cell of each level, ascending")
    tile_px: int = Field(description="A tile's side in pixels; it holds tile_px / px cells a side (edge tiles fewer)")
    revision: str = Field(description="Changes whenever a tile may; add ?v=REVISION to tile URLs to cache them for good")


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
    tiles: TilePyramid | None = Field(
        default=None, description="The map's tile pyramid; none for a project built before tiles existed"
    )
    building: BuildStatus | None = Field(
        default=None,
        description="Set while a build of the project runs; with n = 0 the project has no committed version yet, "
        "and the page waits for it",
    )
    preview: bool = Field(
        default=False,
        description="A first build's map before its thumbnails: layout, grid, labels and the default features are "
        "served (rankings work); thumbnails, colours and tiles answer 503 until the build commits",
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


class ConceptInfo(BaseModel):
    """A concept: a named set of images of the project, kept in it (concepts.json)."""

    name: str
    ids: list[int] = Field(description="Image ids, ascending, no repeats")
    source: str = Field(description="How it was made, e.g. 'lasso', 'label:Flags'")
    created: str
    updated: str


class ConceptBody(BaseModel):
    """A concept's images, to create it or replace them."""

    ids: list[StrictInt]
    source: str = ""


class ConceptEdit(BaseModel):
    """Changes to an existing concept: ids added, then removed, then a new name."""

    add: list[StrictInt] = []
    remove: list[StrictInt] = []
    rename: str | None = None


class ConceptMetrics(BaseModel):
    """How one query's ranking retrieves a concept (the README's definitions, the concept as positives)."""

    concept: str
    feature_set: str
    k: int
    n: int = Field(description="Images in the ranking, the query's own row included")
    member_ranks: list[int] = Field(
        description="Rank of each member in the query's full ranking (as /api/rank returns it: 0 = most similar), ascending"
    )
    members: int = Field(description="Members that count as positives: the concept's images, less the query if it is one")
    query_is_member: bool = Field(description="The query is one of the concept's images; it is then left out of its own metrics")
    ap: float | None = Field(description="scikit-learn's average precision over the other images; null with no positive")
    precision_at_k: float | None = Field(description="Positives among the first k other images / k")
    recall_at_k: float | None = Field(description="Positives among the first k other images / all positives")


class ClassFigures(BaseModel):
    label: str
    n: int = Field(description="Queries of this class")
    map: float
    precision_at_k: float


class EvalSummary(BaseModel):
    """Labels as ground truth for one feature set: every labelled image a query (`deepviz eval --json`)."""

    feature_set: str
    k: int
    queries: int
    skipped: int = Field(description="Queries left out: their class has one image")
    unlabelled: int
    map: float | None
    precision_at_k: float | None
    classes: list[ClassFigures]


class QueryFigures(BaseModel):
    id: int
    ap: float
    precision_at_k: float


class ClassQueries(BaseModel):
    """A class's best and worst queries by AP (ties by lower id)."""

    label: str
    feature_set: str
    k: int
    best: list[QueryFigures]
    worst: list[QueryFigures]


class Comparison(BaseModel):
    """One query ranked by two feature sets: how much the rankings agree, and what the top k gains and loses."""

    a: str = Field(description="The first feature set")
    b: str = Field(description="The second feature set")
    k: int
    n: int = Field(description="Images compared: every image but the query")
    spearman: float | None = Field(description="Spearman's rho of the two similarity vectors (as scipy.stats.spearmanr)")
    kendall: float | None = Field(description="Kendall's tau-b of the two similarity vectors (as scipy.stats.kendalltau)")
    overlap_at_k: float | None = Field(description="Share of images both rankings put in their first k")
    gained: list[int] = Field(description="Ids in b's first k but not in a's, in b's order")
    lost: list[int] = Field(description="Ids in a's first k but not in b's, in a's order")


class DuplicateGroups(BaseModel):
    """Near-duplicates, found exactly: images whose features' dot product reaches the threshold, in groups."""

    feature_set: str
    threshold: float
    pairs: int = Field(description="Pairs of images at or above the threshold")
    groups: list[list[int]] = Field(description="Image ids of each group, ascending; largest group first")


class ExpandedQuery(BaseModel):
    """An image's query averaged with its top k (average query expansion), held like an upload."""

    query: str = Field(description="Opaque key of the new query: rank it as upload:KEY (e.g. /api/ranking/curve?q=upload:KEY)")
    feature_set: str
    image: int = Field(description="The image whose query was expanded")
    k: int = Field(description="How many of its nearest other images were averaged in")
    neighbours: list[int] = Field(description="Those images' ids, nearest first")

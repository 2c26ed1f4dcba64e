"""The API of two rankings of one query beyond their figures: where two feature sets disagree, image by
image (to colour the map), and average query expansion (a new query ranked beside the old one)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response

from deepviz.core.expansion import expand_query, top_neighbours
from deepviz.core.normalize import ZeroFeatureError
from deepviz.core.rank_difference import rank_difference_codes
from deepviz.server import models
from deepviz.server.concepts_api import Live, _errors, _feature_set
from deepviz.server.uploads import upload_key

router = APIRouter(prefix="/api", responses={422: {"model": models.ErrorDetail}})

RANK_DIFFERENCE_DOC = (
    "N bytes, one per image in id order: 127 + round(127 * clip(ln((1 + rank_a) / (1 + rank_b)) / ln(N - 1), -1, 1)), "
    "rank_a and rank_b the image's ranks among the other images (0 = most similar) under feature sets a and b. "
    "127: the same rank; below: a ranks it nearer the top; above: b does; 255: the query itself. X-Count is N."
)
QUERY_THUMB_PX = 128


def _image(state: Any, image: int) -> int:
    if not 0 <= image < state.project.n:
        raise HTTPException(404, f"image id {image} is out of range; this project has ids 0..{state.project.n - 1}")
    return image


@router.get(
    "/compare/rank-difference",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}, "description": RANK_DIFFERENCE_DOC}, **_errors(404)},
)
def rank_difference(
    state: Live,
    image: Annotated[int, Query(description="Query image id")],
    a: Annotated[str, Query(description="First feature set")],
    b: Annotated[str, Query(description="Second feature set")],
) -> Response:
    """How differently feature sets ``a`` and ``b`` rank each image for query ``image``: one byte per image
    (a signed log ratio of ranks), so a million images cost 1 MB."""
    first, second = _feature_set(state, a), _feature_set(state, b)
    ra = state.rankings.for_image(first, _image(state, image))
    rb = state.rankings.for_image(second, image)
    codes = rank_difference_codes(ra.ranks, rb.ranks, image)
    return Response(codes.tobytes(), media_type="application/octet-stream", headers={"X-Count": str(len(codes))})


@router.post("/queries/expand", response_model=models.ExpandedQuery, responses=_errors(404, 422))
def expand(
    state: Live,
    image: Annotated[int, Query(description="Query image id")],
    k: Annotated[int, Query(ge=1, le=1000, description="How many nearest other images to average with the query")] = 10,
    features: str | None = None,
) -> models.ExpandedQuery:
    """Average query expansion: image ``image``'s stored row averaged with its ``k`` nearest other images,
    L2-normalised, held as a new query (rank it as ``upload:KEY``, like an uploaded image)."""
    state.require_thumbnails()  # the new query is shown by the image's thumbnail
    name = _feature_set(state, features)
    ranking = state.rankings.for_image(name, _image(state, image))
    neighbours = top_neighbours(ranking.order, k, exclude=image)
    try:
        vector = expand_query(state.rankings.matrix(name), state.rankings.query_vector(name, image), neighbours)
    except ZeroFeatureError as err:
        raise HTTPException(422, str(err)) from None
    key = upload_key(name, f"expand:{image}:{k}".encode())
    sizes = state.project.thumbnail_sizes
    thumb = state.project.thumbnails.get(image, min(sizes, key=lambda s: abs(s - QUERY_THUMB_PX)))
    state.uploads.add(key, name, vector, thumb, 0, 0, f"image {image} + its top {k}")
    return models.ExpandedQuery(query=key, feature_set=name, image=image, k=k, neighbours=neighbours.tolist())

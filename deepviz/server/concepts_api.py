"""The API of concepts and retrieval metrics: concepts CRUD, a query's figures for a concept, labels as ground truth.

Every figure is computed here, on the server, from the same exact rankings /api/rank serves
(deepviz.server.ranking), so the page never needs a whole ranking to show them.
"""

from __future__ import annotations

import threading
import weakref
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from deepviz.core.duplicates import duplicate_groups, near_duplicate_pairs
from deepviz.core.evaluation import QueryScores
from deepviz.core.metrics import average_precision_ranked, kendall_tau, overlap_at_k, positives_in_top_k, spearman
from deepviz.errors import DeepvizError, ProjectError, UnknownName, UsageError
from deepviz.pipeline.evaluate import LabelCodes, evaluate_project, label_codes, summary
from deepviz.server import models
from deepviz.server.ranking import Ranking
from deepviz.storage.concepts import Concept, ConceptStore
from deepviz.storage.project import Project

router = APIRouter(prefix="/api", responses={422: {"model": models.ErrorDetail}})

K = Annotated[int, Query(ge=1, le=100_000, description="Rank cut-off of precision@k and recall@k")]


def _live(request: Request) -> Any:
    return request.app.state.deepviz.current()


Live = Annotated[Any, Depends(_live)]  # deepviz.server.app.ServerState (not imported: app imports this module)


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": models.ErrorDetail} for code in codes}


def _feature_set(state: Any, name: str | None) -> str:
    try:
        state.project.feature_info(name)  # UnknownName lists the project's sets
    except UnknownName as err:
        raise HTTPException(404, str(err)) from None
    return str(name or state.project.default_feature_set)


def _store(state: Any) -> ConceptStore:
    return ConceptStore(state.project.root, state.project.n)


def _info(name: str, c: Concept) -> models.ConceptInfo:
    return models.ConceptInfo(name=name, ids=c.ids, source=c.source, created=c.created, updated=c.updated)


def _http(err: DeepvizError) -> HTTPException:
    if isinstance(err, UnknownName):
        return HTTPException(404, str(err))
    if isinstance(err, UsageError):
        return HTTPException(400, str(err))
    return HTTPException(409, str(err))


@router.get("/concepts", response_model=list[models.ConceptInfo], responses=_errors(409))
def list_concepts(state: Live) -> list[models.ConceptInfo]:
    try:
        return [_info(name, c) for name, c in _store(state).all().items()]
    except ProjectError as err:
        raise _http(err) from None


@router.put("/concepts/{name}", response_model=models.ConceptInfo, responses=_errors(400, 409))
def put_concept(name: str, body: models.ConceptBody, state: Live) -> models.ConceptInfo:
    """Create concept ``name`` with these images, or replace its images."""
    try:
        saved = _store(state).save(name, body.ids, source=body.source)
    except DeepvizError as err:
        raise _http(err) from None
    return _info(name.strip(), saved)


@router.patch("/concepts/{name}", response_model=models.ConceptInfo, responses=_errors(400, 404, 409))
def edit_concept(name: str, body: models.ConceptEdit, state: Live) -> models.ConceptInfo:
    """Add and remove images of concept ``name``, and rename it."""
    store = _store(state)
    try:
        edited = store.edit(name, add=body.add, remove=body.remove) if body.add or body.remove else store.get(name)
        if body.rename is not None and body.rename.strip() != name:
            edited = store.rename(name, body.rename)
            name = body.rename.strip()
    except DeepvizError as err:
        raise _http(err) from None
    return _info(name, edited)


@router.delete("/concepts/{name}", status_code=204, response_class=Response, responses=_errors(404, 409))
def delete_concept(name: str, state: Live) -> Response:
    try:
        _store(state).delete(name)
    except DeepvizError as err:
        raise _http(err) from None
    return Response(status_code=204)


@router.get("/concepts/{name}/metrics", response_model=models.ConceptMetrics, responses=_errors(400, 404, 409))
def concept_metrics(
    name: str,
    state: Live,
    image: Annotated[int | None, Query(description="Query image id")] = None,
    query: Annotated[str | None, Query(description="Or an uploaded query's key")] = None,
    features: str | None = None,
    k: K = 10,
) -> models.ConceptMetrics:
    """The members' ranks in the query's ranking (for a barcode) and its AP, precision@k and recall@k for
    the concept. A query that is a member is left out of its own ranking for the figures, and the answer says so."""
    feature_set = _feature_set(state, features)
    if (image is None) == (query is None):
        raise HTTPException(400, "give the query as ?image=ID or ?query=UPLOAD_KEY (one of them)")
    try:
        concept = _store(state).get(name)
    except DeepvizError as err:
        raise _http(err) from None
    if image is not None:
        if not 0 <= image < state.project.n:
            raise HTTPException(404, f"image id {image} is out of range; this project has ids 0..{state.project.n - 1}")
        ranking = state.rankings.for_image(feature_set, image)
    else:
        upload = state.uploads.get(str(query))
        if upload is None:
            raise HTTPException(404, f"no uploaded query {query!r} held by this server; upload the image again")
        if upload.feature_set != feature_set:
            raise HTTPException(409, f"query {query} was embedded in feature set {upload.feature_set!r}, not {feature_set!r}")
        ranking = state.rankings.for_vector(feature_set, upload.key, upload.vector)
    figures = ranking_figures(ranking, np.asarray(concept.ids, dtype=np.int64), image, k)
    return models.ConceptMetrics(concept=name, feature_set=feature_set, k=k, n=len(ranking.order), **figures)


def ranking_figures(ranking: Ranking, ids: np.ndarray, query_id: int | None, k: int) -> dict[str, Any]:
    """Member ranks and the figures of one ranking for the member ``ids``, the query's own row left out."""
    n = len(ranking.order)
    member = np.zeros(n, dtype=bool)
    member[ids] = True
    in_order = member[ranking.order]
    ranks = np.flatnonzero(in_order)
    is_member = query_id is not None and bool(member[query_id])
    keep_member, keep_sims = in_order, ranking.sims
    if query_id is not None:
        at = int(np.flatnonzero(ranking.order == query_id)[0])
        keep_member, keep_sims = np.delete(in_order, at), np.delete(ranking.sims, at)
    positives = int(np.count_nonzero(keep_member))
    top = min(k, len(keep_member))
    hits = positives_in_top_k(keep_member, top)
    return {
        "member_ranks": ranks.tolist(),
        "members": positives,
        "query_is_member": is_member,
        "ap": average_precision_ranked(keep_member, keep_sims) if positives else None,
        "precision_at_k": hits / top if top else None,
        "recall_at_k": hits / positives if positives else None,
    }


class _EvalCache:
    """Whole-set evaluations of one project snapshot, by (feature set, k), each computed once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.labels: LabelCodes | None = None
        self.scores: dict[tuple[str, int], QueryScores] = {}

    def get(self, project: Project, feature_set: str, k: int) -> tuple[QueryScores, LabelCodes]:
        with self.lock:  # one evaluation at a time: it takes the CPUs, and a second would repeat it
            if self.labels is None:
                self.labels = label_codes(project)
            key = (feature_set, k)
            if key not in self.scores:
                self.scores[key] = evaluate_project(project, feature_set, k, self.labels)
            return self.scores[key], self.labels


_caches: weakref.WeakKeyDictionary[Project, _EvalCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def _evaluation(state: Any, features: str | None, k: int) -> tuple[str, QueryScores, LabelCodes]:
    name = _feature_set(state, features)
    with _caches_lock:
        cache = _caches.setdefault(state.project, _EvalCache())
    try:
        scores, labels = cache.get(state.project, name, k)
    except UsageError as err:
        raise HTTPException(409, str(err)) from None
    return name, scores, labels


@router.get("/eval", response_model=models.EvalSummary, responses=_errors(404, 409))
def get_eval(state: Live, features: str | None = None, k: K = 10) -> models.EvalSummary:
    """Labels as ground truth: every labelled image a query, mAP and precision@k per class and overall,
    exactly as `deepviz eval --json` prints them. Computed once per feature set and k, then kept."""
    name, scores, labels = _evaluation(state, features, k)
    return models.EvalSummary.model_validate(summary(state.project, name, k, scores, labels))


@router.get("/eval/class", response_model=models.ClassQueries, responses=_errors(404, 409))
def get_class_queries(
    state: Live,
    label: str,
    features: str | None = None,
    k: K = 10,
    count: Annotated[int, Query(ge=1, le=1000, description="Queries of each end")] = 5,
) -> models.ClassQueries:
    """A class's ``count`` best and ``count`` worst queries by AP."""
    name, scores, labels = _evaluation(state, features, k)
    if label not in labels.names:
        raise HTTPException(404, f"no label {label!r} in this project; its labels are {labels.names[:20]}")
    code = labels.names.index(label)
    mine = np.flatnonzero(labels.codes[scores.ids] == code)
    if len(mine) == 0:
        raise HTTPException(404, f"label {label!r} has one image, so it has no query that counts")
    ranked = mine[np.lexsort((scores.ids[mine], -scores.ap[mine]))]  # best first, ties by lower id

    def rows(picked: np.ndarray) -> list[models.QueryFigures]:
        return [
            models.QueryFigures(id=int(scores.ids[i]), ap=float(scores.ap[i]), precision_at_k=float(scores.precision[i])) for i in picked
        ]

    return models.ClassQueries(label=label, feature_set=name, k=k, best=rows(ranked[:count]), worst=rows(ranked[::-1][:count]))


@router.get("/compare", response_model=models.Comparison, responses=_errors(400, 404))
def compare(
    state: Live,
    image: Annotated[int, Query(description="Query image id")],
    a: Annotated[str, Query(description="First feature set")],
    b: Annotated[str, Query(description="Second feature set")],
    k: K = 10,
) -> models.Comparison:
    """Image ``image`` ranked by feature sets ``a`` and ``b``: rank correlations of the other images'
    similarities, overlap@k, and the images gained and lost in the top k."""
    first, second = _feature_set(state, a), _feature_set(state, b)
    if not 0 <= image < state.project.n:
        raise HTTPException(404, f"image id {image} is out of range; this project has ids 0..{state.project.n - 1}")
    ra, rb = state.rankings.for_image(first, image), state.rankings.for_image(second, image)
    figures = compare_rankings(ra, rb, image, k)
    return models.Comparison(a=first, b=second, k=k, n=state.project.n - 1, **figures)


def compare_rankings(ra: Ranking, rb: Ranking, query_id: int, k: int) -> dict[str, Any]:
    """Spearman, Kendall, overlap@k and gained/lost ids of two rankings of one query, the query left out."""
    n = len(ra.order)
    sims_a, sims_b = np.empty(n, dtype=np.float32), np.empty(n, dtype=np.float32)
    sims_a[ra.order], sims_b[rb.order] = ra.sims, rb.sims
    keep = np.arange(n) != query_id
    order_a, order_b = ra.order[ra.order != query_id], rb.order[rb.order != query_id]
    top = min(k, len(order_a))
    top_a, top_b = order_a[:top], order_b[:top]
    with np.errstate(all="ignore"):
        rho = spearman(sims_a[keep], sims_b[keep]) if n > 2 else float("nan")
        tau = kendall_tau(sims_a[keep], sims_b[keep]) if n > 2 else float("nan")
    return {
        "spearman": None if np.isnan(rho) else rho,
        "kendall": None if np.isnan(tau) else tau,
        "overlap_at_k": overlap_at_k(order_a, order_b, k) if top else None,
        "gained": top_b[~np.isin(top_b, top_a)].tolist(),
        "lost": top_a[~np.isin(top_a, top_b)].tolist(),
    }


@router.get("/duplicates", response_model=models.DuplicateGroups, responses=_errors(404))
def get_duplicates(
    state: Live,
    features: str | None = None,
    threshold: Annotated[float, Query(ge=0.5, le=1.0, description="Smallest similarity of a near-duplicate pair")] = 0.99,
) -> models.DuplicateGroups:
    """Every pair of images whose features' dot product is at least ``threshold``, joined into groups
    (`deepviz duplicates` prints the same). Costs one pass over the similarity matrix."""
    name = _feature_set(state, features)
    pairs = near_duplicate_pairs(state.rankings.matrix(name), threshold)
    groups = duplicate_groups(pairs, state.project.n)
    return models.DuplicateGroups(feature_set=name, threshold=threshold, pairs=len(pairs.first), groups=groups)

"""A metric's children looked up in a dict: prometheus_client's labels() validates, converts
and takes a lock on every call, and a request's label values repeat from request to request."""

from prometheus_client.metrics import MetricWrapperBase


class ChildrenByLabels:
    """The children of `metrics` for each set of label values, made once per set."""

    def __init__(self, *metrics: MetricWrapperBase) -> None:
        self._metrics = metrics
        self._children: dict[tuple[str, ...], tuple] = {}

    def __call__(self, *labels: str) -> tuple:
        children = self._children.get(labels)
        if children is None:
            children = self._children[labels] = tuple(m.labels(*labels) for m in self._metrics)
        return children

"""FastAPI dependency aliases."""

from typing import Annotated

from fastapi import Depends, Request

from overlap_api.resources import Resources


def get_resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


ResourcesDep = Annotated[Resources, Depends(get_resources)]

from fastapi import APIRouter

from app.api.routes import auth, items, workload
from app.core.problems import PROBLEM_RESPONSES

api_router = APIRouter(responses=PROBLEM_RESPONSES)
api_router.include_router(auth.router)
api_router.include_router(items.router)
api_router.include_router(workload.router)

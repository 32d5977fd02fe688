from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from luma.roles import Role, page_role_required
from memories.models import IMPORTANCE_MAX, IMPORTANCE_MIN, MemorySource, MemoryStatus


@page_role_required(Role.VIEWER, action="see memories")
def memory_page(request: HttpRequest) -> HttpResponse:
    """The memory panel; its data comes from the memory API (`/api/memory`)."""
    return render(
        request,
        "memories/memory.html",
        {
            "sources": MemorySource.choices,
            "statuses": MemoryStatus.choices,
            "importance_range": range(IMPORTANCE_MIN, IMPORTANCE_MAX + 1),
        },
    )

from django import template

from luma.models import AutoApprovalSource

register = template.Library()


@register.simple_tag
def surface_choices() -> list[tuple[str, str]]:
    """The surfaces the overlay can follow, as (value, label)."""
    return list(AutoApprovalSource.choices)

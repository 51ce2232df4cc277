"""The course's HTML pages (class report, similarity report), rendered from the Jinja2 templates in
course/templates/ with every value escaped."""

import functools


@functools.cache
def _environment():
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(loader=PackageLoader("course", "templates"), autoescape=select_autoescape(["html", "j2"]),
                       trim_blocks=True, lstrip_blocks=True)


def render(template, **values):
    """course/templates/<template> rendered with `values`."""
    return _environment().get_template(template).render(**values)

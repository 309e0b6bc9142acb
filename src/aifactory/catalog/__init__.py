"""The catalog's job templates: built-in ones ship in ``templates/<name>/`` (``template.yaml`` and
``README.md``), a site adds its own from ``AIFACTORY_TEMPLATES_DIR``. See :mod:`aifactory.catalog.loader`."""

from .loader import BUILTIN_DIR, Template, TemplateError, load_template, load_templates

__all__ = ["BUILTIN_DIR", "Template", "TemplateError", "load_template", "load_templates"]

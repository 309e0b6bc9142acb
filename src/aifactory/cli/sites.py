"""``aifactory sites``: factories and their resources (partitions)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from .output import Col, show_record, show_rows
from .state import api

app = typer.Typer(help="Sites (factories) and their resources.", no_args_is_help=True)


def _resource(r: dict[str, Any]) -> str:
    gpus = f"×{r['gpus_per_node']} {r['gpu_model'] or 'GPU'}" if r["gpus_per_node"] else " CPU-only"
    return f"{r['name']} (#{r['id']}: {r['nodes']:,} nodes {gpus})"


SITE_COLS = [
    Col("ID", "id", justify="right"),
    Col("Slug", "slug"),
    Col("Name", "name", wrap=True),
    Col("Country", "country"),
    Col("Holidays", "holiday_subdivision"),
    Col("Resources", lambda s: [_resource(r) for r in s["resources"]], wrap=True),
]
RESOURCE_FIELDS = [
    Col("ID", "id"),
    Col("Site", "site_id"),
    Col("Name", "name"),
    Col("GPU model", "gpu_model"),
    Col("Nodes", "nodes"),
    Col("GPUs per node", "gpus_per_node"),
    Col("CPUs per node", "cpus_per_node"),
    Col("Memory per node (GB)", "memory_gb_per_node"),
    Col(
        "Billing weights",
        lambda r: f"GPU {r['gpu_billing_weight']}, CPU {r['cpu_billing_weight']}, memory {r['memory_billing_weight']}",
    ),
    Col("Description", "description"),
]


@app.command("list")
def list_sites() -> None:
    """List sites with their resources."""
    show_rows(api().list_sites(), SITE_COLS, title="Sites")


@app.command("create")
def create_site(
    slug: Annotated[str, typer.Option(help="short name: lower case, digits, - and _")],
    name: Annotated[str, typer.Option(help="display name")],
    country: Annotated[str, typer.Option(help="ISO country code, e.g. DE")],
    holiday_subdivision: Annotated[
        str | None, typer.Option(help="region for public holidays (deadlines count working days), e.g. NW")
    ] = None,
    description: Annotated[str, typer.Option()] = "",
) -> None:
    """Create a site (operators)."""
    site = api().create_site(
        slug=slug, name=name, country=country, holiday_subdivision=holiday_subdivision, description=description
    )
    show_record(site, SITE_COLS, title="Site created")


@app.command("add-resource")
def add_resource(
    site_id: Annotated[int, typer.Argument(help="site id")],
    name: Annotated[str, typer.Option(help="partition name, e.g. booster")],
    nodes: Annotated[int, typer.Option(help="number of nodes")],
    gpus_per_node: Annotated[int, typer.Option()],
    cpus_per_node: Annotated[int, typer.Option()],
    memory_gb_per_node: Annotated[int, typer.Option()],
    gpu_model: Annotated[str | None, typer.Option(help="e.g. NVIDIA GH200")] = None,
    description: Annotated[str, typer.Option()] = "",
    gpu_weight: Annotated[float | None, typer.Option(help="billing weight of a GPU-hour")] = None,
    cpu_weight: Annotated[float | None, typer.Option(help="billing weight of a CPU-hour")] = None,
    memory_weight: Annotated[float | None, typer.Option(help="billing weight of a GB-hour")] = None,
) -> None:
    """Add a resource (a partition) to a site (operators)."""
    resource = api().add_resource(
        site_id,
        name=name,
        nodes=nodes,
        gpus_per_node=gpus_per_node,
        cpus_per_node=cpus_per_node,
        memory_gb_per_node=memory_gb_per_node,
        gpu_model=gpu_model,
        description=description,
        gpu_billing_weight=gpu_weight,
        cpu_billing_weight=cpu_weight,
        memory_billing_weight=memory_weight,
    )
    show_record(resource, RESOURCE_FIELDS, title="Resource added")

"""SQLAlchemy 2 adapter: tables, the imperative mapping of domain entities, repositories, migrations."""

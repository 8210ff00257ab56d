"""Alembic's entry point for the log schema: run the revisions on the engine `upgrade` hands over."""

from alembic import context

engine = context.config.attributes["connection_engine"]
with engine.connect() as connection:
    context.configure(connection=connection, transactional_ddl=False)
    with context.begin_transaction():
        context.run_migrations()

"""Extension objects, created unbound and initialised by create_app()."""
from flask_appbuilder import Model
from flask_appbuilder.models.sqla.base import SQLA
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

# Bound to FAB's declarative base so that FAB's ab_* tables and ours share one metadata:
# Alembic then sees both and autogenerate does not try to drop FAB's tables.
db = SQLA(model_class=Model)


def migration_include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Autogenerate's filter: the pg_trgm indexes for name search (migration 0008) exist on
    PostgreSQL only and are not declared on the models, so that both databases match them."""
    return not (type_ == "index" and reflected and compare_to is None and (name or "").endswith("_trgm"))


migrate = Migrate(include_object=migration_include_object)
csrf = CSRFProtect()

"""Extension objects, created unbound and initialised by create_app()."""
from flask_appbuilder import Model
from flask_appbuilder.models.sqla.base import SQLA
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

# Bound to FAB's declarative base so that FAB's ab_* tables and ours share one metadata:
# Alembic then sees both and autogenerate does not try to drop FAB's tables.
db = SQLA(model_class=Model)
migrate = Migrate()
csrf = CSRFProtect()

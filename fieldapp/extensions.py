"""The Flask extensions, made once and bound to an app by create_app (fieldapp/__init__.py).

Their own module so that a view or a decorator can use them (csrf.protect()) without importing the app
factory's module, which imports the views.
"""
from flask_babel import Babel
from flask_compress import Compress
from flask_wtf.csrf import CSRFProtect

babel = Babel()
compress = Compress()
csrf = CSRFProtect()

"""The yardstick: a hello-world Flask app served the same way as Fieldapp."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello, world!"

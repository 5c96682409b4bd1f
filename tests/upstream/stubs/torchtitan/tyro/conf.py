"""tyro.conf stand-in: markers used inside typing.Annotated."""
Suppress = object()


def subcommand(name=None, **_):
    return ("subcommand", name)

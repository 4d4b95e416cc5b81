"""The failures that are a requester's answer, not the server's fault: a query that does not
parse or run, an upload that cannot be read or is too large, a remote store out of reach.

A worker process sends them back as they are (querypool); anything else raised there is
reported as an evaluation error. A module of its own so that a query worker knows them without
importing the parsers and SHACL engine that raise some of them (~24 MB a worker).
"""


class RequestFailed(Exception):
    """A failure to report to whoever sent the request."""

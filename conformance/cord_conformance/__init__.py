"""cord_conformance: the reference runner of the Cord conformance suite: wire codec, case runner, stand-in child, recorder, reports."""

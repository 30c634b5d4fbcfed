"""lodpub: publishes the Liberec Region's international partnerships as linked data.

The package loads the RDF files of the checkout (ontology/, data/, shapes/) into named graphs
(`dataset`), checks them against the SHACL shapes (`validate`), writes versioned releases of the
dumps (`build`) and offers both on the command line (`cli`); `config` and `namespaces` hold the
settings and the prefixes everything else shares.
"""

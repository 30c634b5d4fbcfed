"""Pure functions that build graphs about the data (VoID now, DCAT and the service description
later); the build writes them into a release and the web layer serves them like any other graph."""

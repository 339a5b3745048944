"""Reader studies: blinded kits, the JupyterLab app, the offline HTML page, statistics and reviews."""

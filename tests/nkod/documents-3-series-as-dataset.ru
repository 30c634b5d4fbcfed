PREFIX dcat: <http://www.w3.org/ns/dcat#>
INSERT { ?série a dcat:Dataset } 
WHERE { ?série a dcat:DatasetSeries }
"""Each paper's preprocessing: brain slices (Han 2018, Han 2019), mammograms, breast DCE-MRI patches."""

"""Dataset layouts, one file each; a dataset never knows how it is trained."""

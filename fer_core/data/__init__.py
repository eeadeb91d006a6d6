"""Faces in: the FER2013 CSV and image folders (dataset), image files, the synthetic demo set,
training augmentation and the sample folders used to judge a model."""

<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" sourcelanguage="en">
<context>
    <name>NaturalExplain</name>
    <message>
        <location filename="../algorithms/confidence_map.py" line="34"/>
        <source>Maps how familiar each pixel looks to a JEM model: its log p(x), high where the input resembles the imagery the model was trained on, low where it does not (clouds, another sensor, a landscape it never saw), where its naturalness map deserves less trust. The map lies on the input's grid; its colours run from the training patches' 1st percentile (red) to their 99th (blue). The run record, with the input's log p(x) against the training histogram and any warning, is written beside OUTPUT as &lt;name&gt;.run.json.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/engine_algorithm.py" line="88"/>
        <source>METHODS: unknown method '{}': give names or numbers ({})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/engine_algorithm.py" line="153"/>
        <source>Area of interest as polygons (their union; instead of the extent)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/engine_algorithm.py" line="163"/>
        <source>Explanation methods, by name or number (occlusion and ig are slow)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/engine_algorithm.py" line="170"/>
        <source>Method settings, METHOD.NAME=VALUE separated by spaces, e.g. occlusion.window=8 ig.steps=64 (each method's defaults when empty)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/engine_algorithm.py" line="185"/>
        <source>Tile size in model pixels (the model's when empty)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/engine_algorithm.py" line="188"/>
        <source>Tile overlap in model pixels, blended (32 when empty; at most half a tile is used)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/engine_algorithm.py" line="190"/>
        <source>Tiles per forward pass (8 on CUDA, 1 on the CPU when empty)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/engine_algorithm.py" line="278"/>
        <source>give the area of interest either as AOI (an extent) or as AOI_LAYER (polygons), not both</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/engine_algorithm.py" line="283"/>
        <source>AOI_LAYER holds no polygon (or none is selected): give polygons over the raster, or leave it empty for the whole raster</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/evaluate.py" line="56"/>
        <source>Compares explanation methods on the input: deletion, insertion and ROAD AUC (faithfulness, against a random and a brightness control), the IoU between each method's top-Q % pixels and the LABELS polygons whose LABEL_FIELD is REFERENCE_CLASS, the time per megapixel and, with RANDOMIZATION, the rank correlation of each method's maps with those of a randomised classifier (near 1: the map does not depend on the model). DRAWS draws of tiles give the mean ± spread. Writes evaluation.json, evaluation.md (the table) and comparison.png (the methods side by side on the same tiles) into OUTPUT_FOLDER.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/explain.py" line="48"/>
        <source>Writes into OUTPUT_FOLDER the naturalness map (naturalness.tif, 0 anthropogenic to 1 natural) and, for each chosen method, where the model found its evidence (attribution_&lt;method&gt;.tif, higher = more important); cyclegan adds the input pushed towards more and less natural (enhanced_max.tif, enhanced_min.tif). Every map lies on the input's grid, with a style beside it (&lt;name&gt;.qml) and the run record in run.json. occlusion and ig run the model many times per tile: expect minutes on a CPU. METHODS takes names or numbers, e.g. METHODS=gradcam,deeplift or METHODS=2,4 in qgis_process. METHOD_OPTIONS (advanced) sets the methods' settings, e.g. occlusion.window=8 ig.steps=64 or cyclegan.generators=&lt;file&gt;; run.json records them.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/inpaint.py" line="63"/>
        <source>Fills clouds, gaps or any area you mark with imagery a JEM model finds familiar given the pixels around it, by Langevin dynamics (SGLD) on the pixels to fill alone. Mark them with MASK (a raster on the input's grid, nonzero = fill) or MASK_POLYGONS (polygons in any CRS); the input's nodata pixels are filled too. OUTPUT has the input's grid and data type and the model's bands; every pixel not filled is the input's own value. The input must have the model's resolution.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/naturalness_map.py" line="19"/>
        <source>Maps how natural each pixel of a multi-band satellite image looks: a probability from 0 (anthropogenic) to 1 (natural), on exactly the input's grid, nodata where the input has none. Bands are matched to the model by name or description. The run record (model, parameters, input checksum, timings, warnings) is written beside OUTPUT as &lt;name&gt;.run.json.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/ood_report.py" line="44"/>
        <source>Says whether the input looks like the imagery a JEM model was trained on, so you know whether to trust its naturalness map here. Compares the log p(x) of the input's patches with the training histogram stored with the model (KL_DIVERGENCE between the two, SHARE_BELOW_P1: the share of patches less familiar than 99 % of the training patches) and checks what log p(x) cannot see: the band means against the training ones, the band order, fine detail (a coarser product resampled) and the training value range. OUT_OF_DISTRIBUTION is true when any check fires; the warning names each check that fired with its statistic and limit. Writes ood.json (every check's reason) and the two histograms, one over the other, as ood.png into OUTPUT_FOLDER.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/segment.py" line="26"/>
        <source>Segmentation map (U-Net)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/segment.py" line="29"/>
        <source>Maps how natural each pixel looks with a segmentation model (a U-Net), which labels every pixel of its tile at once and so follows field, road and shore edges to the pixel. OUTPUT is band 1, the probability of the natural classes from 0 (anthropogenic) to 1 (natural), then one probability band per class when the model has more than two; it lies on the input's grid, nodata where the input has none. MODEL must be a segmenter (the bundled one when empty); a classifier is refused. The run record is written beside OUTPUT as &lt;name&gt;.run.json.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/segment.py" line="40"/>
        <source>Segmentation map</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/segment.py" line="44"/>
        <source>Segmenter model file (bundled segmenter when empty)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/ssc.py" line="93"/>
        <source>Sharp naturalness map (SSC)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/ssc.py" line="96"/>
        <source>Sharpens the naturalness map to the pixel by Self-Supervised Classification: the classifier's map (phase 1) is smooth at the scale of its tiles, so the pixels it is confident about (probability at least CONFIDENCE, or at most 1 - CONFIDENCE) train a small learner (LEARNER: 0 = MLP, the default; 1 = random forest) on this image's own pixels, which then maps every pixel from its own values (phase 2). OUTPUT is phase 2's probability of natural, 0 anthropogenic to 1 natural, on the input's grid (cut to the area of interest), nodata where the input has none. Beside OUTPUT go the 4-part figure (&lt;name&gt;.ssc.png), the SSC record (&lt;name&gt;.ssc.json: learner, training pixels, agreement of the two phases, scores) and phase 1's run record (&lt;name&gt;.run.json). With LABELS (polygons whose LABEL_FIELD names a class of the model) both phases are scored: pixel-weighted F1 overall, per class and near label edges. It needs at least 200 confident pixels: give a larger area or a lower CONFIDENCE otherwise.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/ssc.py" line="116"/>
        <source>Phase-2 learner</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/ssc.py" line="116"/>
        <source>MLP (small neural network)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/ssc.py" line="116"/>
        <source>Random forest</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/ssc.py" line="119"/>
        <source>Label polygons, to score both phases (optional)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/ssc.py" line="122"/>
        <source>Label field (its values name the model's classes)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/ssc.py" line="125"/>
        <source>Phase-1 probability from which a pixel trains phase 2 (and at most 1 minus it)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/ssc.py" line="128"/>
        <source>Training pixels kept per class</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/ssc.py" line="131"/>
        <source>Random seed (the same seed repeats a run)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/ssc.py" line="134"/>
        <source>Input, phase 1, phase 2 and labels (PNG)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/ssc.py" line="135"/>
        <source>SSC record (JSON)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/ssc.py" line="136"/>
        <source>Share of pixels where both phases agree</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/ssc.py" line="137"/>
        <source>Phase 1 pixel-weighted F1 against LABELS</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/ssc.py" line="138"/>
        <source>Phase 2 pixel-weighted F1 against LABELS</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/train_classifier.py" line="65"/>
        <source>no bundled band set found: give BANDS</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/train_classifier.py" line="84"/>
        <source>Train a naturalness classifier</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/train_classifier.py" line="87"/>
        <source>Training</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/train_classifier.py" line="90"/>
        <source>Trains your own naturalness classifier on a raster (INPUT) and polygons (POLYGONS) whose LABEL_FIELD names each polygon's class; NATURAL_CLASSES (comma-separated values of that field) count as natural, the others as not. Polygons in another CRS are reprojected to the raster's into a GeoPackage beside OUTPUT. BANDS picks the model's bands as python -m train classifier --bands takes them (names, or NAME=NUMBER for unnamed bands); empty: the richest bundled band set the raster has. Writes OUTPUT (&lt;model&gt;.json) and &lt;model&gt;.safetensors, with the command that reproduces it and the held-out accuracy (VAL_ACCURACY, on spatial blocks the training never saw). Checkpoints go to &lt;model&gt;.ckpt: after Cancel, run again with RESUME to carry on. Give the model to the other algorithms as MODEL.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/train_classifier.py" line="106"/>
        <source>Labelled polygons (any CRS)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/train_classifier.py" line="107"/>
        <source>Class field ('label' when empty)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/train_classifier.py" line="110"/>
        <source>Classes that count as natural, comma-separated (values of the class field)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/train_classifier.py" line="113"/>
        <source>Epochs (total, resumed ones included)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/train_classifier.py" line="116"/>
        <source>Model bands, e.g. B02,B03,B04,B08 or B02=1,B03=2,B04=3 (the richest bundled set the raster has when empty)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/train_classifier.py" line="118"/>
        <source>Device</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/train_classifier.py" line="121"/>
        <source>Resume from the checkpoints of an earlier run (else they are replaced)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/train_classifier.py" line="123"/>
        <source>Model file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/train_classifier.py" line="123"/>
        <source>Natural Explain model (*.json)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/train_classifier.py" line="124"/>
        <source>Held-out accuracy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/train_classifier.py" line="130"/>
        <source>Raster to train on</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/train_classifier.py" line="141"/>
        <source>POLYGONS is not a vector layer or file QGIS can open: check the path</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/train_classifier.py" line="144"/>
        <source>POLYGONS has no field '{0}'; its fields are: {1}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/train_classifier.py" line="167"/>
        <source>bands: {0}; labels: {1}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/train_classifier.py" line="170"/>
        <source>training was canceled; the finished epochs' checkpoints are kept: run again with RESUME to carry on</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../compare_view.py" line="102"/>
        <source>Compare with input</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../compare_view.py" line="116"/>
        <source>Result</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dependency_message.py" line="75"/>
        <source>finding out what QGIS's Python lacks (pip, in the task bar); nothing is downloaded yet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dependency_message.py" line="86"/>
        <source>Download and install</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/aoi_choice.py" line="66"/>
        <source>no feature of '{0}' is selected: select the polygons to explain (Select Features tool), or choose another area of interest</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/aoi_choice.py" line="85"/>
        <source>the area of interest cannot be reprojected to {0}: draw it over the raster</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/aoi_choice.py" line="86"/>
        <source>the raster CRS</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/aoi_choice.py" line="98"/>
        <source>the area of interest lies outside '{0}': draw it over the raster, or choose the whole layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/aoi_panel.py" line="20"/>
        <source>drag a rectangle on the map</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/aoi_panel.py" line="21"/>
        <source>click the corners on the map, right-click to close the polygon</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/aoi_panel.py" line="38"/>
        <source>Draw</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/aoi_panel.py" line="88"/>
        <source>choose the polygon layer whose selected features are the area of interest</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/aoi_panel.py" line="91"/>
        <source>no area of interest is drawn yet: {0}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/band_mapping.py" line="55"/>
        <source>no input band for {0}: pick one for each in the band table (Edit…), or choose a layer that has them</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/band_mapping.py" line="65"/>
        <source>input band {0} feeds {1}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/band_mapping.py" line="65"/>
        <source> and </source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/band_mapping.py" line="77"/>
        <source>Model band</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/band_mapping.py" line="77"/>
        <source>Input band</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/band_mapping.py" line="118"/>
        <source>{0}/{1} bands matched</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/band_mapping.py" line="132"/>
        <source>Edit…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/band_mapping.py" line="134"/>
        <source>show which input band feeds each model band, and change it</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/band_mapping.py" line="149"/>
        <source>no band table: choose a layer and a model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/cost_estimate.py" line="115"/>
        <source>~{0} s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/cost_estimate.py" line="117"/>
        <source>~{0} min</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/cost_estimate.py" line="118"/>
        <source>~{0} h</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/cost_estimate.py" line="141"/>
        <source>this run would take {0} on the CPU ({1} megapixels computed, {2} costs most): draw a smaller area of interest, drop the slow methods, or run on a CUDA GPU</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="101"/>
        <source>Stack a Sentinel-2 folder…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="102"/>
        <source>pick a folder of Sentinel-2 band files: they are stacked into one virtual raster at the highest resolution, each band named, and added as the input</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="122"/>
        <source>Run</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="122"/>
        <source>Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="123"/>
        <source>stop the running run within one batch and drop the queued ones</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="127"/>
        <source>Export polygons…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="129"/>
        <source>show a result of the last run (by default the input pushed towards more natural) in a second map that moves with the main map; available once a run has written enhanced images (cyclegan)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="133"/>
        <source>Open folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="134"/>
        <source>open the last run's folder: its GeoTIFFs and run.json</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="141"/>
        <source>Explain</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="147"/>
        <source>Train model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="158"/>
        <source>Output folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="161"/>
        <source>Input layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="162"/>
        <source>Model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="163"/>
        <source>Band mapping</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="164"/>
        <source>Maps</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="165"/>
        <source>Area of interest</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="165"/>
        <source>Device and output</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="234"/>
        <source>Folder of Sentinel-2 band files</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="247"/>
        <source>stacked {0} bands of {1} into {2}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="292"/>
        <source>choose the raster layer to explain in the Natural Explain panel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="299"/>
        <source>the model is not ready ({0}): choose a usable model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="377"/>
        <source>whole run: {0} (start-up included)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="413"/>
        <source>the last run finished</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="414"/>
        <source>the last run was canceled or failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="436"/>
        <source>open {0}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="439"/>
        <source>the last run finished in {0}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="459"/>
        <source>, {0} queued</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="462"/>
        <source>waiting to start</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="468"/>
        <source>writing the maps and adding the layers</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="470"/>
        <source>loading the engine and the model, first tiles</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="472"/>
        <source>computing the maps tile by tile ({0} %)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="473"/>
        <source>{0}: {1} left</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/input_check.py" line="26"/>
        <source>the model needs {0} Sentinel-2 bands ({1}) of surface reflectance at {2} m</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/input_check.py" line="28"/>
        <source>the model needs the satellite's own bands of surface reflectance</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/input_check.py" line="31"/>
        <source>'{0}' is a web map ({1}): it sends pictures coloured for the screen, three bands of 0-255, and {2}. No web map can supply them, in any format: add the Sentinel-2 band files (Stack a Sentinel-2 folder… makes one layer of them) and choose that layer.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/input_check.py" line="35"/>
        <source>'{0}' is not read from a raster file (provider {1}), and {2}: choose a layer made from the Sentinel-2 band files (Stack a Sentinel-2 folder… makes one).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/input_check.py" line="55"/>
        <source>the input's pixels are {0} m, the model's {1} m: every band is resampled {2}x finer, so the maps are blurrier than the band files allow. A Build Virtual Raster stack needs Resolution = Highest (its default is Average); Stack a Sentinel-2 folder… builds it that way.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/input_check.py" line="59"/>
        <source>the input's pixels are {0} m, the model's {1} m: the bands are averaged to {1} m for the model, and the maps are written back on the input's grid.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="27"/>
        <source>Naturalness</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="28"/>
        <source>CycleGAN patterns</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="29"/>
        <source>Counterfactual change</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="30"/>
        <source>GradCAM</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="31"/>
        <source>Occlusion</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="32"/>
        <source>DeepLIFT</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="33"/>
        <source>Integrated Gradients</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="34"/>
        <source>Confidence (JEM)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="35"/>
        <source>Sharpen edges (SSC)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="36"/>
        <source>Segmentation (U-Net)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="44"/>
        <source>The model's probability that each pixel is natural, 0 (anthropogenic) to 1 (natural). Always written; cheapest. Trust it where the input looks like the training imagery (see the warnings after the run).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="47"/>
        <source>Where the scene changes when generators push it towards more and less natural, with the two enhanced images. Moderate cost (loads the generators). The most readable map: trust it where the enhanced images still look like real land cover.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="50"/>
        <source>How much each pixel must change for the model to call the place the other class. Moderate cost. Read with the enhanced images; noisy where the model is unsure.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="52"/>
        <source>Coarse regions the model's last layer looked at, one value per few pixels. Cheap. Good for 'which patch', not for single pixels or fine edges.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="54"/>
        <source>How the score drops when each patch is hidden: the most direct test, but by far the slowest (hours on a CPU for a large area). Use on a small area of interest.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="56"/>
        <source>Per-pixel contribution against a reference image. A few times naturalness. Sharp, but depends on the reference; check against GradCAM before trusting details.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="58"/>
        <source>Per-pixel contribution along a path from a reference image (many model passes). Slow on a CPU. The most faithful gradient method; noisy on its own.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="60"/>
        <source>Written for every JEM model: how typical each tile is of the training data (log p(x)). Free with the naturalness map. Low values mean: do not trust the other maps there.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="62"/>
        <source>The naturalness map sharpened to the pixel: a small learner fitted on this image's own pixels where the model is confident. Moderate cost (repeats the naturalness map, then fits). Trust it for edges; it can speckle where the classes look alike.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="65"/>
        <source>Natural land from the bundled U-Net segmenter, pixel by pixel, 0 to 1, whatever model is chosen above. About twice naturalness. The best per-pixel scores on the held-out labels; trust it where the input looks like the training imagery.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="94"/>
        <source>estimated time for the chosen area on this machine, start-up included</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="130"/>
        <source>only a JEM model writes a confidence map; this model is none</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="139"/>
        <source>free</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="140"/>
        <source>not measured</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="26"/>
        <source>Automatic (best bundled model for this layer's bands)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="27"/>
        <source>Model file…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="28"/>
        <source>Natural Explain model (*.json *.safetensors)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="32"/>
        <source>band-mean</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="32"/>
        <source>batch-mean</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="32"/>
        <source>noise</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="71"/>
        <source>Held-out accuracy: {0}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="73"/>
        <source>Reproduce with: {0}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="80"/>
        <source>Maps the probability that land is natural rather than anthropogenic.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="82"/>
        <source>Maps the probability of {0} (against {1}).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="84"/>
        <source>Automatic: {0} ({1})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="87"/>
        <source>Sentinel-2, {0} bands at {1} m: {2}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="90"/>
        <source>JEM: also writes a confidence map (how typical the input is of its training imagery).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="91"/>
        <source>Not a JEM: no confidence map.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="106"/>
        <source>Trained with CAMAT: the top {0} of its GradCAM evidence hidden ({1} fill) in {2} of the training samples, after {3} plain epoch(s).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="110"/>
        <source>Trained with CAMAT (settings not recorded).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="141"/>
        <source>for the layer you choose</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="148"/>
        <source>no bundled model finds its bands by name in this layer, so {0} is offered: pick its bands in the band table ({1})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="159"/>
        <source>Bundled classifier, 10 Sentinel-2 bands ({0})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="160"/>
        <source>Bundled classifier, RGB + NIR ({0})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="161"/>
        <source>Bundled classifier, RGB ({0})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="166"/>
        <source>Bundled classifier ({0})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="168"/>
        <source>{0}, trained with CAMAT</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="171"/>
        <source>Bundled JEM, with confidence map ({0})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="259"/>
        <source>no bundled model fits this layer: {0}; or choose a model above and pick its bands in the band table</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="266"/>
        <source>choose a model file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="273"/>
        <source>this model cannot be used: {0}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/train_page.py" line="106"/>
        <source>{0} bands, as {1}: {2}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/train_page.py" line="123"/>
        <source>Train</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/train_page.py" line="124"/>
        <source>Resume</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/train_page.py" line="125"/>
        <source>carry on from the checkpoints an earlier, canceled run left</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/train_page.py" line="127"/>
        <source>stop after the current batch; the finished epochs are kept for Resume</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/train_page.py" line="137"/>
        <source>Train pattern generators for it…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/train_page.py" line="138"/>
        <source>second step: the cyclegan and counterfactual methods need pattern generators trained against this model (4 epochs, much longer than the classifier)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/train_page.py" line="150"/>
        <source>Raster</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/train_page.py" line="151"/>
        <source>Labelled polygons</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/train_page.py" line="152"/>
        <source>Class field</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/train_page.py" line="153"/>
        <source>Natural classes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/train_page.py" line="154"/>
        <source>Bands</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/train_page.py" line="156"/>
        <source>Epochs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/train_page.py" line="260"/>
        <source>bands used: {0}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/train_page.py" line="278"/>
        <source>{0} labelled pixels: about {1} on this machine</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/train_page.py" line="287"/>
        <source>Resume (epoch {0} done)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/train_page.py" line="304"/>
        <source>choose the raster to train on</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/train_page.py" line="306"/>
        <source>choose a polygon layer whose class field labels the raster</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/train_page.py" line="309"/>
        <source>choose the class field of '{0}'</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/train_page.py" line="316"/>
        <source>choose the model file to write</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/train_page.py" line="341"/>
        <source>Train pattern generators</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/train_page.py" line="356"/>
        <source>training {0}: {1}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/train_page.py" line="357"/>
        <source>about {0}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/train_page.py" line="358"/>
        <source>running</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/train_page.py" line="375"/>
        <source>pattern generators written to {0}: explain runs with {1} use them for the cyclegan and counterfactual methods</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/train_page.py" line="383"/>
        <source>trained {0} in {1}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/train_page.py" line="386"/>
        <source>trained {0}: it is now the panel's model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/train_page.py" line="398"/>
        <source>Bands: {0}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/train_page.py" line="399"/>
        <source>Classes: {0} (natural: {1})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/train_page.py" line="405"/>
        <source>training stopped</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/train_page.py" line="411"/>
        <source>training canceled; {0} finished epoch(s) kept in {1}: Resume carries on</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/train_page.py" line="412"/>
        <source>training canceled before the first epoch ended</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../engine_import.py" line="35"/>
        <source>install the packages QGIS's Python lacks into the plugin's folder of this QGIS profile with: {}, then run again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../explain_request.py" line="137"/>
        <source>{0} was not made: {1}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../export_dialog.py" line="50"/>
        <source>{0}: export polygons</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../export_dialog.py" line="53"/>
        <source>score at least</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../export_dialog.py" line="53"/>
        <source>top percent of the map</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../export_dialog.py" line="70"/>
        <source>Result map</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../export_dialog.py" line="76"/>
        <source>Format</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../export_dialog.py" line="77"/>
        <source>Save as</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../export_dialog.py" line="94"/>
        <source>choose the result map to export</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../export_dialog.py" line="96"/>
        <source>choose the file to save the polygons in</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../help_about.py" line="56"/>
        <source>{0}: {1}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../help_about.py" line="58"/>
        <source>classes: {0}; natural: {1}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../help_about.py" line="60"/>
        <source>JEM: writes a confidence map</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../help_about.py" line="63"/>
        <source>trained with: {0}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../help_about.py" line="78"/>
        <source>Bundled models</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../help_about.py" line="79"/>
        <source>Help</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../help_about.py" line="80"/>
        <source>Source and issues</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../help_about.py" line="85"/>
        <source>About Natural Explain</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../help_text.py" line="44"/>
        <source>Maps and explanations</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../help_text.py" line="45"/>
        <source>Checks</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../help_text.py" line="46"/>
        <source>Imagery</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../installer.py" line="171"/>
        <source>{} MB</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../installer.py" line="172"/>
        <source>about {} MB (the index gives no sizes; measured for a first install)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../installer.py" line="173"/>
        <source>Install will download {} and add {} to {}; QGIS's own packages stay as they are</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../installer.py" line="177"/>
        <source>, except {}: a pinned version needs them, so these copies load instead of QGIS's for every plugin</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../installer.py" line="421"/>
        <source>Natural Explain: what installing {} needs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_metadata.py" line="30"/>
        <source>The classifier's naturalness score per pixel: 0 anthropogenic (built-up, farmland), 1 natural (marsh, forest, water).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_metadata.py" line="33"/>
        <source>The naturalness score sharpened per pixel by a small learner fitted on this image's own pixels where the classifier was confident (Self-Supervised Classification).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_metadata.py" line="36"/>
        <source>The U-Net segmenter's probability of natural per pixel: 0 anthropogenic, 1 natural.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_metadata.py" line="38"/>
        <source>How much each pixel mattered to the naturalness verdict, by {method}, in the method's own units: compare places within the map, not values across methods.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_metadata.py" line="42"/>
        <source>The input repainted by the pattern maximizer, towards more natural, in the input's units.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_metadata.py" line="44"/>
        <source>The input repainted by the pattern minimizer, towards less natural, in the input's units.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_metadata.py" line="46"/>
        <source>The model's log p(x) per pixel: how familiar the imagery looks next to its training imagery (red: less familiar than 99 % of the training patches).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_metadata.py" line="49"/>
        <source>The input with the hole filled in by the pattern generators, in the input's units.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_metadata.py" line="59"/>
        <source>JEM log p(x)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_metadata.py" line="61"/>
        <source>naturalness only</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_metadata.py" line="74"/>
        <source>Method: {method}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_metadata.py" line="75"/>
        <source>Model: {model} ({architecture}; bands {bands})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_metadata.py" line="78"/>
        <source>Model file: {path}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_metadata.py" line="79"/>
        <source>Input: {path}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_metadata.py" line="80"/>
        <source>Run finished: {when}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_metadata.py" line="83"/>
        <source>Run time: {seconds} s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_metadata.py" line="84"/>
        <source>Run folder: {folder}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_names.py" line="32"/>
        <source>pattern generators</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_names.py" line="33"/>
        <source>counterfactual</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_names.py" line="42"/>
        <source>Naturalness, sharpened (SSC)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_names.py" line="44"/>
        <source>Natural land (U-Net segmentation)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_names.py" line="46"/>
        <source>Why: {method} (importance)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_names.py" line="48"/>
        <source>Pattern-enhanced: more natural</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_names.py" line="50"/>
        <source>Pattern-enhanced: less natural</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_names.py" line="52"/>
        <source>Confidence (log p(x))</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_names.py" line="54"/>
        <source>Inpainted</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_names.py" line="61"/>
        <source>naturalness score, 0 to 1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_names.py" line="63"/>
        <source>importance, in {method}'s own units</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_names.py" line="66"/>
        <source>log p(x), in the model's units</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin.py" line="98"/>
        <source>Explain naturalness</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin.py" line="99"/>
        <source>Open the Natural Explain panel on the selected raster layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin.py" line="104"/>
        <source>Output folder…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin.py" line="107"/>
        <source>Natural Explain panel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin.py" line="112"/>
        <source>stack a folder of Sentinel-2 band files at the highest resolution and explain it</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin.py" line="115"/>
        <source>Train a model…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin.py" line="116"/>
        <source>train your own classifier on a raster and labelled polygons, on the panel's Train model page</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin.py" line="158"/>
        <source>Natural Explain: save results under</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin.py" line="162"/>
        <source>results will be saved under {0}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin.py" line="229"/>
        <source>maps of '{0}' saved in {1}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin.py" line="240"/>
        <source>the last run's maps were removed from the project; run again to compare its results with the input</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin.py" line="276"/>
        <source>the run was canceled; no map was saved</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../reporting.py" line="30"/>
        <source>unexpected error ({0}: {1}), a bug: the traceback is in the Log Messages panel, tab {2}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../reporting.py" line="40"/>
        <source>run record: {0}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../reporting.py" line="43"/>
        <source>the checks on the input: {0}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../reporting.py" line="45"/>
        <source>log p(x) of the input's patches against the training histogram: {0}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../result_styles.py" line="124"/>
        <source>anthropogenic (built-up, farmland)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../result_styles.py" line="124"/>
        <source>uncertain</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../result_styles.py" line="125"/>
        <source>natural (marsh, forest, water)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../result_styles.py" line="159"/>
        <source>≤ {value} (low importance)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../result_styles.py" line="160"/>
        <source>≥ {value} (high importance)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../result_styles.py" line="161"/>
        <source>low importance</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../result_styles.py" line="161"/>
        <source>high importance</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../result_styles.py" line="165"/>
        <source>≤ {value} (unlike the training imagery)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../result_styles.py" line="166"/>
        <source>≥ {value} (like the training imagery)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../result_styles.py" line="167"/>
        <source>low log p(x): unlike the training imagery</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../result_styles.py" line="167"/>
        <source>high log p(x): like the training imagery</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../stack_folder.py" line="48"/>
        <source>{0} holds no Sentinel-2 band file (a .tif or .jp2 named with B02, B8A, ...): choose the folder with the band files</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../stack_folder.py" line="63"/>
        <source>GDAL could not stack the band files of {0}: {1}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../train_request.py" line="241"/>
        <source>the class field '{0}' holds {1}: a classifier needs polygons of at least two classes, so draw polygons of another class or choose another field</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../train_request.py" line="243"/>
        <source>no value</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../train_request.py" line="243"/>
        <source>only the value {0}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../train_request.py" line="245"/>
        <source>tick the classes of '{0}' that count as natural (at least one)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../train_request.py" line="247"/>
        <source>every class of '{0}' is ticked as natural: leave at least one class unticked (e.g. farmland or towns)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../train_request.py" line="251"/>
        <source>natural class(es) {0} are not values of '{1}' ({2}): tick values the field holds</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../train_request.py" line="288"/>
        <source>the raster has {0} band(s) and the band set {1} needs {2} ({3}): choose a band set with at most {0} bands (e.g. naturalness_s2_rgb) or a raster with all of them</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../train_request.py" line="302"/>
        <source>the raster names some bands but not {0}: choose a band set it has (e.g. naturalness_s2_rgb) or name its bands</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../train_request.py" line="332"/>
        <source>the label layer '{0}' holds no polygons: give a polygon layer with a class field</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../train_request.py" line="343"/>
        <source>the polygons of '{0}' lie outside the raster '{1}': draw the labels over the raster, or choose the raster they were drawn on</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../train_request.py" line="362"/>
        <source>could not write the reprojected labels to {0} ({1}): choose an output folder you may write to</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../train_task.py" line="80"/>
        <source>training: {0}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../train_task.py" line="98"/>
        <source>could not start QGIS's Python at {0} ({1})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../train_task.py" line="112"/>
        <source>training canceled; {0} finished epoch(s) kept in {1}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../train_task.py" line="113"/>
        <source>training canceled</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../train_task.py" line="118"/>
        <source>training stopped with exit status {0} ({1}): its output is in the Log Messages panel, tab Natural Explain</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../train_task.py" line="119"/>
        <source>no output</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>

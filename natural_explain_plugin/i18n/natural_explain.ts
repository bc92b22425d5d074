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
        <location filename="../algorithms/engine_algorithm.py" line="107"/>
        <source>METHODS: unknown method '{}': give names or numbers ({})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/engine_algorithm.py" line="171"/>
        <source>Area of interest as polygons (their union; instead of the extent)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/engine_algorithm.py" line="181"/>
        <source>Explanation methods, by name or number (occlusion and ig are slow)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/engine_algorithm.py" line="187"/>
        <source>Tile size in model pixels (the model's when empty)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/engine_algorithm.py" line="190"/>
        <source>Tile overlap in model pixels, blended (32 when empty; at most half a tile is used)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/engine_algorithm.py" line="192"/>
        <source>Tiles per forward pass (8 on CUDA, 1 on the CPU when empty)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/engine_algorithm.py" line="276"/>
        <source>give the area of interest either as AOI (an extent) or as AOI_LAYER (polygons), not both</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/engine_algorithm.py" line="281"/>
        <source>AOI_LAYER holds no polygon (or none is selected): give polygons over the raster, or leave it empty for the whole raster</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/evaluate.py" line="56"/>
        <source>Compares explanation methods on the input: deletion, insertion and ROAD AUC (faithfulness, against a random and a brightness control), the IoU between each method's top-Q % pixels and the LABELS polygons whose LABEL_FIELD is REFERENCE_CLASS, the time per megapixel and, with RANDOMIZATION, the rank correlation of each method's maps with those of a randomised classifier (near 1: the map does not depend on the model). DRAWS draws of tiles give the mean ± spread. Writes evaluation.json, evaluation.md (the table) and comparison.png (the methods side by side on the same tiles) into OUTPUT_FOLDER.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/explain.py" line="47"/>
        <source>Writes into OUTPUT_FOLDER the naturalness map (naturalness.tif, 0 anthropogenic to 1 natural) and, for each chosen method, where the model found its evidence (attribution_&lt;method&gt;.tif, higher = more important); cyclegan adds the input pushed towards more and less natural (enhanced_max.tif, enhanced_min.tif). Every map lies on the input's grid, with a style beside it (&lt;name&gt;.qml) and the run record in run.json. occlusion and ig run the model many times per tile: expect minutes on a CPU. METHODS takes names or numbers, e.g. METHODS=gradcam,deeplift or METHODS=2,4 in qgis_process.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/inpaint.py" line="63"/>
        <source>Fills clouds, gaps or any area you mark with imagery a JEM model finds familiar given the pixels around it, by Langevin dynamics (SGLD) on the pixels to fill alone. Mark them with MASK (a raster on the input's grid, nonzero = fill) or MASK_POLYGONS (polygons in any CRS); the input's nodata pixels are filled too. OUTPUT has the input's grid and data type and the model's bands; every pixel not filled is the input's own value. The input must have the model's resolution.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/naturalness_map.py" line="26"/>
        <source>Maps how natural each pixel of a multi-band satellite image looks: a probability from 0 (anthropogenic) to 1 (natural), on exactly the input's grid, nodata where the input has none. Bands are matched to the model by name or description. The run record (model, parameters, input checksum, timings, warnings) is written beside OUTPUT as &lt;name&gt;.run.json.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../algorithms/ood_report.py" line="43"/>
        <source>Says whether the input looks like the imagery a JEM model was trained on, so you know whether to trust its naturalness map here. Compares the log p(x) of the input's patches with the training histogram stored with the model: KL_DIVERGENCE between the two, SHARE_BELOW_P1 (the share of patches less familiar than 99 % of the training patches) and OUT_OF_DISTRIBUTION when either is too large. Writes ood.json and the two histograms, one over the other, as ood.png into OUTPUT_FOLDER.</source>
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
        <location filename="../dependency_message.py" line="79"/>
        <source>finding out what QGIS's Python lacks (pip, in the task bar); nothing is downloaded yet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dependency_message.py" line="90"/>
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
        <location filename="../dock/cost_estimate.py" line="103"/>
        <source>~{0} s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/cost_estimate.py" line="105"/>
        <source>~{0} min</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/cost_estimate.py" line="106"/>
        <source>~{0} h</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/cost_estimate.py" line="129"/>
        <source>this run would take {0} on the CPU ({1} megapixels computed, {2} costs most): draw a smaller area of interest, drop the slow methods, or run on a CUDA GPU</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="96"/>
        <source>Stack a Sentinel-2 folder…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="97"/>
        <source>pick a folder of Sentinel-2 band files: they are stacked into one virtual raster at the highest resolution, each band named, and added as the input</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="117"/>
        <source>Run</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="117"/>
        <source>Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="118"/>
        <source>stop the running run within one batch and drop the queued ones</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="122"/>
        <source>Export polygons…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="124"/>
        <source>show a result of the last run (by default the input pushed towards more natural) in a second map that moves with the main map; available once a run has written enhanced images (cyclegan)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="128"/>
        <source>Open folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="129"/>
        <source>open the last run's folder: its GeoTIFFs and run.json</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="143"/>
        <source>Device</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="144"/>
        <source>Output folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="147"/>
        <source>Input layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="148"/>
        <source>Model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="149"/>
        <source>Band mapping</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="150"/>
        <source>Maps</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="151"/>
        <source>Area of interest</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="151"/>
        <source>Device and output</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="208"/>
        <source>Folder of Sentinel-2 band files</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="221"/>
        <source>stacked {0} bands of {1} into {2}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="266"/>
        <source>choose the raster layer to explain in the Natural Explain panel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="273"/>
        <source>the model is not ready ({0}): choose a usable model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="341"/>
        <source>whole run: {0} (start-up included)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="376"/>
        <source>the last run finished</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="377"/>
        <source>the last run was canceled or failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="399"/>
        <source>open {0}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="402"/>
        <source>the last run finished in {0}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="422"/>
        <source>, {0} queued</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="425"/>
        <source>waiting to start</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="431"/>
        <source>writing the maps and adding the layers</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="433"/>
        <source>loading the engine and the model, first tiles</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="435"/>
        <source>computing the maps tile by tile ({0} %)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/dock_widget.py" line="436"/>
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
        <location filename="../dock/methods_panel.py" line="24"/>
        <source>Naturalness</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="25"/>
        <source>CycleGAN patterns</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="26"/>
        <source>Counterfactual change</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="27"/>
        <source>GradCAM</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="28"/>
        <source>Occlusion</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="29"/>
        <source>DeepLIFT</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="30"/>
        <source>Integrated Gradients</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="31"/>
        <source>Confidence (JEM)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="39"/>
        <source>The model's probability that each pixel is natural, 0 (anthropogenic) to 1 (natural). Always written; cheapest. Trust it where the input looks like the training imagery (see the warnings after the run).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="42"/>
        <source>Where the scene changes when generators push it towards more and less natural, with the two enhanced images. Moderate cost (loads the generators). The most readable map: trust it where the enhanced images still look like real land cover.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="45"/>
        <source>How much each pixel must change for the model to call the place the other class. Moderate cost. Read with the enhanced images; noisy where the model is unsure.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="47"/>
        <source>Coarse regions the model's last layer looked at, one value per few pixels. Cheap. Good for 'which patch', not for single pixels or fine edges.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="49"/>
        <source>How the score drops when each patch is hidden: the most direct test, but by far the slowest (hours on a CPU for a large area). Use on a small area of interest.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="51"/>
        <source>Per-pixel contribution against a reference image. A few times naturalness. Sharp, but depends on the reference; check against GradCAM before trusting details.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="53"/>
        <source>Per-pixel contribution along a path from a reference image (many model passes). Slow on a CPU. The most faithful gradient method; noisy on its own.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="55"/>
        <source>Written for every JEM model: how typical each tile is of the training data (log p(x)). Free with the naturalness map. Low values mean: do not trust the other maps there.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="80"/>
        <source>estimated time for the chosen area on this machine, start-up included</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="104"/>
        <source>only a JEM model writes a confidence map; this model is none</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="113"/>
        <source>free</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/methods_panel.py" line="114"/>
        <source>not measured</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="21"/>
        <source>Model file…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="22"/>
        <source>Natural Explain model (*.json *.safetensors)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="40"/>
        <source>Maps the probability that land is natural rather than anthropogenic.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="42"/>
        <source>Maps the probability of {0} (against {1}).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="45"/>
        <source>Sentinel-2, {0} bands at {1} m: {2}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="48"/>
        <source>JEM: also writes a confidence map (how typical the input is of its training imagery).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="49"/>
        <source>Not a JEM: no confidence map.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="67"/>
        <source>Bundled classifier ({0})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="69"/>
        <source>Bundled JEM, with confidence map ({0})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="126"/>
        <source>choose a model file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../dock/model_choice.py" line="133"/>
        <source>this model cannot be used: {0}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../engine_import.py" line="35"/>
        <source>install the packages QGIS's Python lacks into the plugin's folder of this QGIS profile with: {}, then run again</source>
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
        <location filename="../layer_metadata.py" line="28"/>
        <source>The classifier's naturalness score per pixel: 0 anthropogenic (built-up, farmland), 1 natural (marsh, forest, water).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_metadata.py" line="31"/>
        <source>How much each pixel mattered to the naturalness verdict, by {method}, in the method's own units: compare places within the map, not values across methods.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_metadata.py" line="35"/>
        <source>The input repainted by the pattern maximizer, towards more natural, in the input's units.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_metadata.py" line="37"/>
        <source>The input repainted by the pattern minimizer, towards less natural, in the input's units.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_metadata.py" line="39"/>
        <source>The model's log p(x) per pixel: how familiar the imagery looks next to its training imagery (red: less familiar than 99 % of the training patches).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_metadata.py" line="42"/>
        <source>The input with the hole filled in by the pattern generators, in the input's units.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_metadata.py" line="52"/>
        <source>JEM log p(x)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_metadata.py" line="54"/>
        <source>naturalness only</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_metadata.py" line="67"/>
        <source>Method: {method}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_metadata.py" line="68"/>
        <source>Model: {model} ({architecture}; bands {bands})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_metadata.py" line="71"/>
        <source>Model file: {path}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_metadata.py" line="72"/>
        <source>Input: {path}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_metadata.py" line="73"/>
        <source>Run finished: {when}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_metadata.py" line="76"/>
        <source>Run time: {seconds} s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_metadata.py" line="77"/>
        <source>Run folder: {folder}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_names.py" line="28"/>
        <source>pattern generators</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_names.py" line="29"/>
        <source>counterfactual</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_names.py" line="38"/>
        <source>Why: {method} (importance)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_names.py" line="40"/>
        <source>Pattern-enhanced: more natural</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_names.py" line="42"/>
        <source>Pattern-enhanced: less natural</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_names.py" line="44"/>
        <source>Confidence (log p(x))</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_names.py" line="46"/>
        <source>Inpainted</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_names.py" line="53"/>
        <source>naturalness score, 0 to 1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_names.py" line="55"/>
        <source>importance, in {method}'s own units</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../layer_names.py" line="58"/>
        <source>log p(x), in the model's units</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin.py" line="97"/>
        <source>Explain naturalness</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin.py" line="98"/>
        <source>Open the Natural Explain panel on the selected raster layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin.py" line="103"/>
        <source>Output folder…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin.py" line="106"/>
        <source>Natural Explain panel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin.py" line="111"/>
        <source>stack a folder of Sentinel-2 band files at the highest resolution and explain it</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin.py" line="151"/>
        <source>Natural Explain: save results under</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin.py" line="155"/>
        <source>results will be saved under {0}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin.py" line="222"/>
        <source>maps of '{0}' saved in {1}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin.py" line="233"/>
        <source>the last run's maps were removed from the project; run again to compare its results with the input</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin.py" line="269"/>
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
        <source>log p(x) of the input's patches against the training histogram: {0}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../result_styles.py" line="123"/>
        <source>anthropogenic (built-up, farmland)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../result_styles.py" line="123"/>
        <source>uncertain</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../result_styles.py" line="124"/>
        <source>natural (marsh, forest, water)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../result_styles.py" line="158"/>
        <source>≤ {value} (low importance)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../result_styles.py" line="159"/>
        <source>≥ {value} (high importance)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../result_styles.py" line="160"/>
        <source>low importance</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../result_styles.py" line="160"/>
        <source>high importance</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../result_styles.py" line="164"/>
        <source>≤ {value} (unlike the training imagery)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../result_styles.py" line="165"/>
        <source>≥ {value} (like the training imagery)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../result_styles.py" line="166"/>
        <source>low log p(x): unlike the training imagery</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../result_styles.py" line="166"/>
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
</context>
</TS>
